"""Departures: a person leaves the caseload, and their record closes."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import DepartureReason, PersonStatus
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    dispatched,
    events_after,
    head,
    person,
    plan,
    refused,
    register,
)


@pytest.mark.parametrize("reason", list(DepartureReason))
def test_a_departure_records_departed_with_its_reason(
    sites: Registry, reason: DepartureReason
) -> None:
    person_id = register(sites)
    before = head(sites)

    sites.record_departure(person_id=person_id, reason=reason.value, actor=ACTOR)

    [departed] = events_after(sites, before)
    assert isinstance(departed, Person.Departed)
    assert (departed.site_code, departed.reason, departed.actor) == ("RC-1", reason.value, ACTOR)
    gone = person(sites, person_id)
    assert (gone.status, gone.departure_reason) == (PersonStatus.DEPARTED, reason.value)


def test_an_unknown_departure_reason_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.record_departure(person_id=person_id, reason="left", actor=ACTOR)


def test_a_departed_person_cannot_depart_again(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_departure(person_id=person_id, reason="resettled", actor=ACTOR)
    with refused(sites, errors.PersonDeparted):
        sites.record_departure(person_id=person_id, reason="returned", actor=ACTOR)


def test_a_person_on_a_manifest_cannot_depart(sites: Registry) -> None:
    person_id = register(sites)
    plan(sites, [person_id])
    with refused(sites, errors.PersonOnAnotherManifest):
        sites.record_departure(person_id=person_id, reason="absconded", actor=ACTOR)


def test_a_person_in_transit_cannot_depart(sites: Registry) -> None:
    person_id = register(sites)
    dispatched(sites, [person_id])
    with refused(sites, errors.PersonInTransit):
        sites.record_departure(person_id=person_id, reason="absconded", actor=ACTOR)


def test_a_person_unaccounted_for_cannot_depart(sites: Registry) -> None:
    person_id = register(sites)
    sites.reconcile_transfer(transfer_id=dispatched(sites, [person_id]), actor=ACTOR)
    with refused(sites, errors.PersonUnaccountedFor):
        sites.record_departure(person_id=person_id, reason="absconded", actor=ACTOR)


def test_a_merged_person_cannot_depart(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        sites.record_departure(person_id=duplicate, reason="returned", actor=ACTOR)


def test_a_held_person_may_depart(sites: Registry) -> None:
    person_id = register(sites)
    sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)
    sites.record_departure(person_id=person_id, reason="deceased", actor=ACTOR)
    assert person(sites, person_id).status == PersonStatus.DEPARTED


def test_an_unknown_person_cannot_depart(sites: Registry) -> None:
    with refused(sites, errors.PersonNotFound):
        sites.record_departure(person_id=uuid4(), reason="returned", actor=ACTOR)


def test_a_departed_persons_details_can_still_be_corrected(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_departure(person_id=person_id, reason="resettled", actor=ACTOR)
    sites.correct_detail(
        person_id=person_id, field="sex", value="male", reason="entry error", actor=ACTOR
    )
    assert person(sites, person_id).sex == "male"


@pytest.mark.parametrize(
    ("reason", "allowed"),
    [(reason.value, reason.value in ("deceased", "absconded")) for reason in DepartureReason],
)
def test_a_held_person_leaves_only_by_death_or_escape_until_released(
    sites: Registry, reason: str, allowed: bool
) -> None:
    person_id = register(sites)
    sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)
    before = head(sites)
    if allowed:
        sites.record_departure(person_id=person_id, reason=reason, actor=ACTOR)
        assert person(sites, person_id).status == PersonStatus.DEPARTED
        return
    with refused(sites, errors.HeldPersonDeparture):
        sites.record_departure(person_id=person_id, reason=reason, actor=ACTOR)
    assert head(sites) == before and person(sites, person_id).status == PersonStatus.HELD
    # Released first, the same departure is recorded.
    sites.release_person(person_id=person_id, reason="cleared", actor=ACTOR)
    sites.record_departure(person_id=person_id, reason=reason, actor=ACTOR)
    assert person(sites, person_id).status == PersonStatus.DEPARTED


def test_a_departure_keeps_its_time_whatever_is_recorded_after_it(sites: Registry) -> None:
    person_id = register(sites)
    left_at = FIXED_NOW - timedelta(minutes=30)
    sites.record_departure(
        person_id=person_id, reason="resettled", occurred_at=left_at, actor=ACTOR
    )
    sites.correct_detail(
        person_id=person_id, field="family_name", value="Harun", reason="spelling", actor=ACTOR
    )
    gone = person(sites, person_id)
    assert gone.departed_at == left_at and gone.last_occurred_at == FIXED_NOW
    assert person(sites, register(sites)).departed_at is None
