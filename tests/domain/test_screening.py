"""Screening steps and their outcomes; holding and releasing a person."""

from __future__ import annotations

from uuid import uuid4

import pytest

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import PersonStatus, ScreeningOutcome, ScreeningStep
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    dispatched,
    events_after,
    head,
    names,
    person,
    refused,
    register,
)


@pytest.mark.parametrize("outcome", list(ScreeningOutcome))
@pytest.mark.parametrize("step", list(ScreeningStep))
def test_each_screening_step_records_its_outcome(
    sites: Registry, step: ScreeningStep, outcome: ScreeningOutcome
) -> None:
    person_id = register(sites)
    before = head(sites)

    result = sites.record_screening_step(
        person_id=person_id, step=step.value, outcome=outcome.value, reason="seen", actor=ACTOR
    )

    [recorded] = events_after(sites, before)
    assert isinstance(recorded, Person.ScreeningStepRecorded)
    assert (recorded.step, recorded.outcome) == (step.value, outcome.value)
    assert (recorded.site_code, recorded.reason, recorded.actor) == ("RC-1", "seen", ACTOR)
    screened = person(sites, person_id)
    assert screened.screening == {step.value: outcome.value}
    expected = PersonStatus.HELD if outcome == ScreeningOutcome.HELD else PersonStatus.PRESENT
    assert screened.status == expected
    assert result.result == {"person_id": str(person_id), "version": 2}


def test_a_later_outcome_of_the_same_step_replaces_the_earlier_one(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_screening_step(
        person_id=person_id, step="medical", outcome="referred", actor=ACTOR
    )
    sites.record_screening_step(person_id=person_id, step="medical", outcome="cleared", actor=ACTOR)
    sites.record_screening_step(
        person_id=person_id, step="identity", outcome="cleared", actor=ACTOR
    )
    assert person(sites, person_id).screening == {"medical": "cleared", "identity": "cleared"}


def test_a_cleared_outcome_does_not_release_a_held_person(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_screening_step(person_id=person_id, step="security", outcome="held", actor=ACTOR)
    sites.record_screening_step(
        person_id=person_id, step="security", outcome="cleared", actor=ACTOR
    )
    assert person(sites, person_id).status == PersonStatus.HELD


def test_an_unknown_screening_step_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidScreeningStep):
        sites.record_screening_step(
            person_id=person_id, step="dental", outcome="cleared", actor=ACTOR
        )


def test_an_unknown_screening_outcome_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidScreeningOutcome):
        sites.record_screening_step(person_id=person_id, step="medical", outcome="ok", actor=ACTOR)


def test_a_screening_reason_longer_than_500_characters_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.record_screening_step(
            person_id=person_id, step="medical", outcome="cleared", reason="x" * 501, actor=ACTOR
        )


def test_screening_an_unknown_person_is_refused(sites: Registry) -> None:
    with refused(sites, errors.PersonNotFound):
        sites.record_screening_step(
            person_id=uuid4(), step="medical", outcome="cleared", actor=ACTOR
        )


def test_a_person_in_transit_cannot_be_screened_or_held(sites: Registry) -> None:
    person_id = register(sites)
    dispatched(sites, [person_id])
    with refused(sites, errors.PersonInTransit):
        sites.record_screening_step(
            person_id=person_id, step="medical", outcome="held", actor=ACTOR
        )
    with refused(sites, errors.PersonInTransit):
        sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)


def test_a_person_unaccounted_for_cannot_be_screened(sites: Registry) -> None:
    person_id = register(sites)
    transfer_id = dispatched(sites, [person_id])
    sites.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)
    with refused(sites, errors.PersonUnaccountedFor):
        sites.record_screening_step(
            person_id=person_id, step="medical", outcome="cleared", actor=ACTOR
        )


def test_a_departed_person_cannot_be_screened_held_or_released(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_departure(person_id=person_id, reason="resettled", actor=ACTOR)
    with refused(sites, errors.PersonDeparted):
        sites.record_screening_step(
            person_id=person_id, step="medical", outcome="held", actor=ACTOR
        )
    with refused(sites, errors.PersonDeparted):
        sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)
    with refused(sites, errors.PersonDeparted):
        sites.release_person(person_id=person_id, reason="cleared", actor=ACTOR)


def test_holding_a_person_records_held(sites: Registry) -> None:
    person_id = register(sites)
    before = head(sites)

    sites.hold_person(person_id=person_id, reason="security interview", actor=ACTOR)

    [held] = events_after(sites, before)
    assert isinstance(held, Person.Held)
    assert (held.site_code, held.reason) == ("RC-1", "security interview")
    assert person(sites, person_id).status == PersonStatus.HELD
    assert person(sites, person_id).site_code == "RC-1"


def test_a_held_person_cannot_be_held_again(sites: Registry) -> None:
    person_id = register(sites)
    sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)
    with refused(sites, errors.PersonHeld):
        sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)


def test_a_person_held_by_screening_cannot_be_held_again(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_screening_step(person_id=person_id, step="security", outcome="held", actor=ACTOR)
    with refused(sites, errors.PersonHeld):
        sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)


def test_holding_needs_a_reason(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.hold_person(person_id=person_id, reason=" ", actor=ACTOR)


def test_releasing_a_held_person_records_released(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_screening_step(person_id=person_id, step="security", outcome="held", actor=ACTOR)
    before = head(sites)

    sites.release_person(person_id=person_id, reason="cleared by interview", actor=ACTOR)

    assert names(events_after(sites, before)) == ["Person.Released"]
    assert person(sites, person_id).status == PersonStatus.PRESENT


def test_a_person_not_held_cannot_be_released(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.PersonNotHeld):
        sites.release_person(person_id=person_id, reason="cleared", actor=ACTOR)


def test_releasing_needs_a_reason(sites: Registry) -> None:
    person_id = register(sites)
    sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)
    with refused(sites, errors.InvalidInput):
        sites.release_person(person_id=person_id, reason="", actor=ACTOR)


def test_a_held_person_can_still_be_screened(sites: Registry) -> None:
    person_id = register(sites)
    sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)
    sites.record_screening_step(
        person_id=person_id, step="medical", outcome="referred", actor=ACTOR
    )
    assert person(sites, person_id).screening == {"medical": "referred"}
