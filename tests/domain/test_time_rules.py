"""Field time: it may lag the clock (offline devices) but never lead it, nor go backwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from campledger.domain.model import errors
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    REGISTERED_AT,
    dispatched,
    events_after,
    head,
    person,
    plan,
    refused,
    register,
    transfer,
)

PersonCommand = Callable[[Registry, UUID, datetime], object]

PERSON_COMMANDS: dict[str, PersonCommand] = {
    "screening": lambda r, p, at: r.record_screening_step(
        person_id=p, step="medical", outcome="cleared", occurred_at=at, actor=ACTOR
    ),
    "hold": lambda r, p, at: r.hold_person(
        person_id=p, reason="interview", occurred_at=at, actor=ACTOR
    ),
    "departure": lambda r, p, at: r.record_departure(
        person_id=p, reason="returned", occurred_at=at, actor=ACTOR
    ),
    "correction": lambda r, p, at: r.correct_detail(
        person_id=p, field="sex", value="male", reason="fix", occurred_at=at, actor=ACTOR
    ),
    "plan": lambda r, p, at: r.plan_transfer(
        origin="RC-1", destination="CAMP-1", manifest=[p], occurred_at=at, actor=ACTOR
    ),
}

commands = pytest.mark.parametrize("command", PERSON_COMMANDS.values(), ids=list(PERSON_COMMANDS))


@commands
def test_an_event_beyond_the_clock_skew_is_refused(sites: Registry, command: PersonCommand) -> None:
    person_id = register(sites)
    with refused(sites, errors.OccurredInFuture) as info:
        command(sites, person_id, FIXED_NOW + timedelta(minutes=5, seconds=1))
    assert info.value.kind == errors.ErrorKind.INVALID


@commands
def test_an_event_within_the_clock_skew_is_accepted(
    sites: Registry, command: PersonCommand
) -> None:
    person_id = register(sites)
    command(sites, person_id, FIXED_NOW + timedelta(minutes=5))
    assert person(sites, person_id).last_occurred_at == FIXED_NOW + timedelta(minutes=5)


@commands
def test_an_event_before_the_persons_last_event_is_refused(
    sites: Registry, command: PersonCommand
) -> None:
    person_id = register(sites)
    with refused(sites, errors.OccurredBeforeLastEvent) as info:
        command(sites, person_id, REGISTERED_AT - timedelta(seconds=1))
    assert info.value.kind == errors.ErrorKind.RULE


@commands
def test_a_time_without_a_zone_is_refused(sites: Registry, command: PersonCommand) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidOccurredAt):
        command(sites, person_id, FIXED_NOW.replace(tzinfo=None))


@commands
def test_a_late_synced_event_after_the_last_one_is_accepted(
    sites: Registry, command: PersonCommand
) -> None:
    person_id = register(sites)
    synced_late = REGISTERED_AT + timedelta(minutes=20)  # 40 minutes before it reaches us
    before = head(sites)

    command(sites, person_id, synced_late)

    assert all(e.occurred_at == synced_late for e in events_after(sites, before))
    assert person(sites, person_id).last_occurred_at == synced_late


def test_an_event_at_the_same_moment_as_the_last_is_accepted(sites: Registry) -> None:
    person_id = register(sites)
    sites.hold_person(person_id=person_id, reason="x", occurred_at=REGISTERED_AT, actor=ACTOR)


def test_events_must_follow_each_other_not_just_the_registration(sites: Registry) -> None:
    person_id = register(sites)
    sites.hold_person(
        person_id=person_id,
        reason="interview",
        occurred_at=REGISTERED_AT + timedelta(minutes=30),
        actor=ACTOR,
    )
    with refused(sites, errors.OccurredBeforeLastEvent):
        sites.record_screening_step(
            person_id=person_id,
            step="security",
            outcome="held",
            occurred_at=REGISTERED_AT + timedelta(minutes=10),
            actor=ACTOR,
        )


def test_a_registration_may_arrive_days_late(sites: Registry) -> None:
    person_id = register(sites, occurred_at=FIXED_NOW - timedelta(days=3))
    assert person(sites, person_id).registered_at == FIXED_NOW - timedelta(days=3)


def test_a_plan_earlier_than_one_manifest_persons_last_event_plans_nothing(
    sites: Registry,
) -> None:
    early, late = register(sites), register(sites)
    sites.hold_person(
        person_id=late, reason="x", occurred_at=REGISTERED_AT + timedelta(minutes=30), actor=ACTOR
    )
    sites.release_person(
        person_id=late, reason="x", occurred_at=REGISTERED_AT + timedelta(minutes=40), actor=ACTOR
    )
    with refused(sites, errors.OccurredBeforeLastEvent):
        plan(sites, [early, late], occurred_at=REGISTERED_AT + timedelta(minutes=35))


def test_a_dispatch_before_the_plan_is_refused(sites: Registry) -> None:
    transfer_id = plan(sites, [register(sites)], occurred_at=REGISTERED_AT + timedelta(minutes=30))
    with refused(sites, errors.OccurredBeforeLastEvent):
        sites.dispatch_transfer(
            transfer_id=transfer_id, occurred_at=REGISTERED_AT + timedelta(minutes=10), actor=ACTOR
        )


def test_a_receipt_in_the_future_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    transfer_id = dispatched(sites, [person_id])
    with refused(sites, errors.OccurredInFuture):
        sites.receive_transfer(
            transfer_id=transfer_id,
            site_code="CAMP-1",
            persons=[person_id],
            occurred_at=FIXED_NOW + timedelta(hours=1),
            actor=ACTOR,
        )


def test_cancelling_with_a_naive_time_is_refused(sites: Registry) -> None:
    transfer_id = plan(sites, [register(sites)])
    with refused(sites, errors.InvalidOccurredAt):
        sites.cancel_transfer(
            transfer_id=transfer_id,
            reason="x",
            occurred_at=FIXED_NOW.replace(tzinfo=None),
            actor=ACTOR,
        )


def test_commands_without_a_time_happen_at_the_clocks_now(sites: Registry) -> None:
    person_id = register(sites)
    transfer_id = dispatched(sites, [person_id])
    assert transfer(sites, transfer_id).last_occurred_at == FIXED_NOW
    assert person(sites, person_id).last_occurred_at == FIXED_NOW
