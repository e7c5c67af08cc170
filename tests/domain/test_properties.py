"""Properties over many generated cases (hypothesis)."""

from __future__ import annotations

from uuid import UUID

import pytest

# hypothesis is a dev dependency; without it only these properties are skipped.
pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campledger.domain.model import errors
from campledger.domain.model.values import AGE_BANDS, MAX_AGE, PersonStatus, age_band
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, head, make_registry, open_site, person, register


@given(st.integers(min_value=0, max_value=MAX_AGE))
def test_age_bands_partition_every_age_from_0_to_130(age: int) -> None:
    band = age_band(age)
    containing = [n for n, low, high in AGE_BANDS if low <= age and (high is None or age <= high)]
    assert containing == [band]


@given(st.integers(min_value=0, max_value=MAX_AGE - 1))
def test_age_bands_never_go_down_as_age_goes_up(age: int) -> None:
    order = [name for name, _, _ in AGE_BANDS]
    assert order.index(age_band(age)) <= order.index(age_band(age + 1))


# Which status a person may move to from each status; anything else is a bug.
ALLOWED: dict[PersonStatus, set[PersonStatus]] = {
    PersonStatus.PRESENT: {
        PersonStatus.PRESENT,
        PersonStatus.HELD,
        PersonStatus.IN_TRANSIT,
        PersonStatus.DEPARTED,
        PersonStatus.MERGED,
    },
    PersonStatus.HELD: {
        PersonStatus.HELD,
        PersonStatus.PRESENT,
        PersonStatus.DEPARTED,
        PersonStatus.MERGED,
    },
    PersonStatus.IN_TRANSIT: {
        PersonStatus.IN_TRANSIT,
        PersonStatus.PRESENT,
        PersonStatus.UNACCOUNTED,
    },
    PersonStatus.UNACCOUNTED: {PersonStatus.UNACCOUNTED, PersonStatus.PRESENT},
    PersonStatus.DEPARTED: {PersonStatus.DEPARTED},
    PersonStatus.MERGED: {PersonStatus.MERGED},
}

COMMANDS = [
    "screen-cleared",
    "screen-held",
    "hold",
    "release",
    "depart",
    "plan",
    "cancel",
    "dispatch",
    "receive",
    "reconcile",
    "late-receive",
    "merge",
    "correct",
]


class World:
    """One person moving between RC-1 and CAMP-1, driven by generated commands."""

    def __init__(self) -> None:
        self.registry: Registry = make_registry()
        open_site(self.registry, "RC-1")
        open_site(self.registry, "CAMP-1", kind="camp")
        self.person_id = register(self.registry)
        self.other_id = register(self.registry)
        self.transfer_id: UUID | None = None

    def run(self, command: str) -> None:
        r, p, t = self.registry, self.person_id, self.transfer_id
        here = person(r, p).site_code or "CAMP-1"
        there = "CAMP-1" if here == "RC-1" else "RC-1"
        if command == "screen-cleared":
            r.record_screening_step(person_id=p, step="medical", outcome="cleared", actor=ACTOR)
        elif command == "screen-held":
            r.record_screening_step(person_id=p, step="security", outcome="held", actor=ACTOR)
        elif command == "hold":
            r.hold_person(person_id=p, reason="x", actor=ACTOR)
        elif command == "release":
            r.release_person(person_id=p, reason="x", actor=ACTOR)
        elif command == "depart":
            r.record_departure(person_id=p, reason="returned", actor=ACTOR)
        elif command == "plan":
            result = r.plan_transfer(origin=here, destination=there, manifest=[p], actor=ACTOR)
            self.transfer_id = UUID(result.result["transfer_id"])
        elif command == "merge":
            r.merge_persons(duplicate_id=p, survivor_id=self.other_id, reason="x", actor=ACTOR)
        elif command == "correct":
            r.correct_detail(person_id=p, field="sex", value="unknown", reason="x", actor=ACTOR)
        elif t is None:
            raise errors.TransferNotFound("no transfer yet")
        elif command == "cancel":
            r.cancel_transfer(transfer_id=t, reason="x", actor=ACTOR)
        elif command == "dispatch":
            r.dispatch_transfer(transfer_id=t, actor=ACTOR)
        elif command == "reconcile":
            r.reconcile_transfer(transfer_id=t, actor=ACTOR)
        else:  # receive, late-receive
            destination = r.get_transfer(t).destination
            r.receive_transfer(transfer_id=t, site_code=destination, persons=[p], actor=ACTOR)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=25))
def test_no_sequence_of_commands_leaves_a_person_outside_the_allowed_transitions(
    commands: list[str],
) -> None:
    world = World()
    for command in commands:
        before_status = person(world.registry, world.person_id).status
        before_head = head(world.registry)
        try:
            world.run(command)
        except errors.DomainError:
            assert head(world.registry) == before_head, f"{command} was refused but wrote events"
            continue
        after = person(world.registry, world.person_id)
        assert after.status in ALLOWED[before_status], (
            f"{before_status} -{command}-> {after.status}"
        )
        # Invariants that hold whatever the history.
        if after.status in (PersonStatus.PRESENT, PersonStatus.HELD, PersonStatus.DEPARTED):
            assert after.site_code is not None
        if after.status in (PersonStatus.IN_TRANSIT, PersonStatus.UNACCOUNTED):
            assert after.transfer_id is not None and after.site_code is None
        if after.status == PersonStatus.MERGED:
            assert after.merged_into == world.other_id
