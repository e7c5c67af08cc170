"""Optimistic concurrency: a change made on a stale copy of a record is refused."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, FIXED_NOW, head, person, refused, register


def test_saving_a_stale_aggregate_is_refused_by_the_store(sites: Registry) -> None:
    person_id = register(sites)
    stale = person(sites, person_id)
    sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)
    before = head(sites)

    stale.record_screening_step(
        step="medical",
        outcome="cleared",
        reason="",
        actor=ACTOR,
        occurred_at=FIXED_NOW,
        now=FIXED_NOW,
    )
    with pytest.raises(IntegrityError):
        sites.save(stale)

    assert head(sites) == before
    assert person(sites, person_id).screening == {}


def test_a_command_at_an_old_expected_version_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    seen = person(sites, person_id).version
    sites.hold_person(person_id=person_id, reason="interview", actor=ACTOR)

    with refused(sites, errors.VersionMismatch) as info:
        sites.release_person(
            person_id=person_id, reason="cleared", actor=ACTOR, expected_version=seen
        )
    assert info.value.details["version"] == seen + 1
    # A failed precondition (HTTP 412), not a writer that lost a race (409).
    assert info.value.kind == errors.ErrorKind.PRECONDITION
    assert not isinstance(info.value, errors.ConcurrentChange)


def test_a_command_at_the_current_expected_version_is_applied(sites: Registry) -> None:
    person_id = register(sites)
    result = sites.hold_person(
        person_id=person_id, reason="interview", actor=ACTOR, expected_version=1
    )
    assert result.result["version"] == 2


def test_a_correction_at_an_old_expected_version_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    sites.correct_detail(person_id=person_id, field="sex", value="male", reason="x", actor=ACTOR)
    with refused(sites, errors.VersionMismatch):
        sites.correct_detail(
            person_id=person_id,
            field="sex",
            value="unknown",
            reason="x",
            actor=ACTOR,
            expected_version=1,
        )


class RacingRegistry(Registry):
    """Lets another command slip in between loading a person and saving the change."""

    def __init__(self, clock: Any) -> None:
        super().__init__(clock=clock)
        self.race: UUID | None = None

    def get_person(self, person_id: UUID) -> Person:
        loaded = super().get_person(person_id)
        if self.race == person_id:
            self.race = None
            self.hold_person(person_id=person_id, reason="the other officer", actor="officer-2")
        return loaded


def test_a_command_that_loses_a_race_becomes_concurrent_change() -> None:
    registry = RacingRegistry(clock=lambda: FIXED_NOW)
    registry.open_site(code="RC-1", name="RC", kind="reception", capacity=5, actor=ACTOR)
    person_id = register(registry)
    registry.race = person_id

    with pytest.raises(errors.ConcurrentChange):
        registry.record_screening_step(
            person_id=person_id, step="medical", outcome="cleared", actor=ACTOR
        )

    winner = person(registry, person_id)
    assert winner.version == 2
    assert winner.screening == {}
