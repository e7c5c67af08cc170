"""Units of work: several commands applied all or nothing, each seeing the ones before it.

An offline device's queue applied with ``Registry.apply_together``: the commands are the
Registry's own, with their own rules and errors, and the whole queue is saved in one
transaction, or nothing is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import PersonStatus
from campledger.domain.service.journal import StoredCommand
from campledger.domain.service.registry import CommandResult, Registry
from campledger.domain.service.unit_of_work import StepFailed
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    arrival,
    events_after,
    head,
    names,
    person,
    register,
)

DEVICE_ACTOR = f"{ACTOR}@tablet-7"
Step = Callable[[], CommandResult]


def registration(registry: Registry, person_id: UUID, key: str, number: str = "") -> Step:
    given = arrival(person_id=person_id, **({"registration_number": number} if number else {}))
    return lambda: registry.register_arrival(
        site_code="RC-1", arrival=given, actor=DEVICE_ACTOR, idempotency_key=key
    )


def hold(registry: Registry, person_id: UUID, key: str) -> Step:
    return lambda: registry.hold_person(
        person_id=person_id,
        reason="interview",
        occurred_at=FIXED_NOW - timedelta(minutes=30),
        actor=DEVICE_ACTOR,
        idempotency_key=key,
    )


def release(registry: Registry, person_id: UUID, key: str) -> Step:
    return lambda: registry.release_person(
        person_id=person_id,
        reason="cleared",
        occurred_at=FIXED_NOW - timedelta(minutes=10),
        actor=DEVICE_ACTOR,
        idempotency_key=key,
    )


def test_a_hold_may_follow_the_registration_it_refers_to_in_the_same_unit(
    sites: Registry,
) -> None:
    minted = uuid4()
    before = head(sites)

    results = sites.apply_together([registration(sites, minted, "k-1"), hold(sites, minted, "k-2")])

    assert names(events_after(sites, before)) == ["Person.Registered", "Person.Held"]
    assert [r.position for r in results] == [before + 1, before + 2]
    assert [r.replayed for r in results] == [False, False]
    assert results[1].result == {"person_id": str(minted), "version": 2}
    assert person(sites, minted).status == PersonStatus.HELD


def test_events_are_logged_in_the_order_of_the_steps_across_persons(sites: Registry) -> None:
    first, second = register(sites), register(sites)
    before = head(sites)

    results = sites.apply_together(
        [
            hold(sites, first, "a"),
            hold(sites, second, "b"),
            release(sites, first, "c"),
        ]
    )

    logged = events_after(sites, before)
    assert [(type(e).__qualname__, e.originator_id) for e in logged] == [
        ("Person.Held", first),
        ("Person.Held", second),
        ("Person.Released", first),
    ]
    assert [r.position for r in results] == [before + 1, before + 2, before + 3]


def test_a_failing_step_names_its_index_and_nothing_is_written(sites: Registry) -> None:
    minted, other = uuid4(), register(sites)
    before = head(sites)

    with pytest.raises(StepFailed) as failure:
        sites.apply_together(
            [
                registration(sites, minted, "k-1"),
                hold(sites, other, "k-2"),
                release(sites, minted, "k-3"),  # never held: refused
                hold(sites, minted, "k-4"),
            ]
        )

    assert failure.value.index == 2
    assert isinstance(failure.value.error, errors.PersonNotHeld)
    assert head(sites) == before
    assert minted not in sites.repository
    assert person(sites, other).status == PersonStatus.PRESENT
    # The keys of the refused unit were not spent: a new command may use them.
    assert not registration(sites, minted, "k-1")().replayed


def test_the_reverse_order_fails_on_the_hold(sites: Registry) -> None:
    minted = uuid4()
    before = head(sites)
    with pytest.raises(StepFailed) as failure:
        sites.apply_together([hold(sites, minted, "k-2"), registration(sites, minted, "k-1")])
    assert failure.value.index == 0
    assert isinstance(failure.value.error, errors.PersonNotFound)
    assert head(sites) == before


def test_a_unit_applied_again_is_all_replays_and_writes_nothing(sites: Registry) -> None:
    minted = uuid4()
    steps = [registration(sites, minted, "k-1"), hold(sites, minted, "k-2")]
    first = sites.apply_together(steps)
    position = head(sites)

    again = sites.apply_together(steps)

    assert head(sites) == position
    assert [r.replayed for r in again] == [True, True]
    assert [(r.result, r.position) for r in again] == [(r.result, r.position) for r in first]


def test_each_key_of_a_unit_replays_alone_with_its_own_position(sites: Registry) -> None:
    minted = uuid4()
    first = sites.apply_together([registration(sites, minted, "k-1"), hold(sites, minted, "k-2")])

    alone = hold(sites, minted, "k-2")()

    assert alone.replayed
    assert (alone.result, alone.position) == (first[1].result, first[1].position)


def test_a_unit_may_mix_replays_and_new_commands(sites: Registry) -> None:
    minted = uuid4()
    register_it = registration(sites, minted, "k-1")
    registered = register_it()
    before = head(sites)

    results = sites.apply_together([register_it, hold(sites, minted, "k-2")])

    assert results[0].replayed and results[0].position == registered.position
    assert not results[1].replayed and results[1].position == before + 1
    assert names(events_after(sites, before)) == ["Person.Held"]


def test_a_key_repeated_within_a_unit_replays_the_first_use(sites: Registry) -> None:
    register_it = registration(sites, uuid4(), "k-1")
    before = head(sites)

    results = sites.apply_together([register_it, register_it])

    assert [r.replayed for r in results] == [False, True]
    assert results[1].position == results[0].position == before + 1
    assert names(events_after(sites, before)) == ["Person.Registered"]


def test_a_registration_number_used_twice_in_a_unit_is_refused(sites: Registry) -> None:
    before = head(sites)
    with pytest.raises(StepFailed) as failure:
        sites.apply_together(
            [
                registration(sites, uuid4(), "k-1", number="DUP-1"),
                registration(sites, uuid4(), "k-2", number="DUP-1"),
            ]
        )
    assert failure.value.index == 1
    assert isinstance(failure.value.error, errors.DuplicateRegistrationNumber)
    assert head(sites) == before


def test_a_number_freed_by_a_correction_in_the_unit_may_be_taken_in_the_same_unit(
    sites: Registry,
) -> None:
    holder = register(sites, registration_number="OLD-1")
    newcomer = uuid4()

    sites.apply_together(
        [
            lambda: sites.correct_detail(
                person_id=holder,
                field="registration_number",
                value="NEW-1",
                reason="typo",
                actor=DEVICE_ACTOR,
                idempotency_key="fix",
            ),
            registration(sites, newcomer, "k-new", number="OLD-1"),
        ]
    )

    assert sites.journal.find_claim("registration_number", "OLD-1") == newcomer
    assert sites.journal.find_claim("registration_number", "NEW-1") == holder


def test_a_number_claimed_then_corrected_within_the_unit_is_left_free(sites: Registry) -> None:
    minted = uuid4()
    sites.apply_together(
        [
            registration(sites, minted, "k-1", number="TYPO-1"),
            lambda: sites.correct_detail(
                person_id=minted,
                field="registration_number",
                value="RIGHT-1",
                reason="typo",
                actor=DEVICE_ACTOR,
                idempotency_key="k-2",
            ),
        ]
    )
    assert sites.journal.find_claim("registration_number", "TYPO-1") is None
    assert sites.journal.find_claim("registration_number", "RIGHT-1") == minted


def test_other_threads_do_not_see_a_unit_in_progress(sites: Registry) -> None:
    minted = uuid4()
    seen_elsewhere: list[bool] = []

    def look_from_another_thread() -> CommandResult:
        worker = threading.Thread(target=lambda: seen_elsewhere.append(minted in sites.repository))
        worker.start()
        worker.join()
        seen_elsewhere.append(minted in sites.repository)  # this context sees the unit
        return hold(sites, minted, "k-2")()

    sites.apply_together([registration(sites, minted, "k-1"), look_from_another_thread])

    assert seen_elsewhere == [False, True]


def test_a_unit_that_lost_a_race_is_decided_again_from_what_is_stored(sites: Registry) -> None:
    person_id = register(sites)
    raced: list[CommandResult] = []
    attempts: list[int] = []

    def screened_elsewhere_meanwhile() -> CommandResult:
        attempts.append(len(attempts))
        if not raced:
            # Another device's command lands after this unit decided the hold, before it saves.
            worker = threading.Thread(
                target=lambda: raced.append(
                    sites.record_screening_step(
                        person_id=person_id,
                        step="medical",
                        outcome="cleared",
                        occurred_at=FIXED_NOW - timedelta(minutes=45),
                        actor="other",
                    )
                )
            )
            worker.start()
            worker.join()
        return registration(sites, uuid4(), "k-other")()

    held, _ = sites.apply_together([hold(sites, person_id, "k-hold"), screened_elsewhere_meanwhile])

    assert attempts == [0, 1]
    assert not held.replayed
    assert held.position == raced[0].position + 1
    stored = person(sites, person_id)
    assert (stored.version, stored.status) == (3, PersonStatus.HELD)


def test_a_unit_that_keeps_losing_races_gives_up_and_writes_nothing(sites: Registry) -> None:
    person_id = register(sites)
    attempts: list[int] = []

    def always_raced() -> CommandResult:
        attempts.append(len(attempts))
        worker = threading.Thread(
            target=lambda: sites.record_screening_step(
                person_id=person_id,
                step="medical",
                outcome="cleared",
                occurred_at=FIXED_NOW - timedelta(minutes=50 - len(attempts)),
                actor="other",
            )
        )
        worker.start()
        worker.join()
        return registration(sites, uuid4(), "k-other")()

    with pytest.raises(errors.ConcurrentChange):
        sites.apply_together([hold(sites, person_id, "k-hold"), always_raced])

    assert len(attempts) == 3
    assert person(sites, person_id).status == PersonStatus.PRESENT
    assert sites.journal.find_command(DEVICE_ACTOR, "k-hold") is None


def test_units_do_not_nest(sites: Registry) -> None:
    with pytest.raises(StepFailed) as failure:
        sites.apply_together([lambda: sites.apply_together([])[0]])
    assert isinstance(failure.value.error, RuntimeError)


def test_the_registered_person_of_a_unit_is_a_plain_person_once_saved(sites: Registry) -> None:
    minted = uuid4()
    sites.apply_together([registration(sites, minted, "k-1"), hold(sites, minted, "k-2")])
    stored = sites.repository.get(minted)
    assert isinstance(stored, Person) and stored.version == 2


# --- apply_each: the refused are left out, the others saved together ----------------------------


def test_each_step_is_applied_on_its_own_merits_and_saved_together(sites: Registry) -> None:
    minted, other = uuid4(), register(sites)
    before = head(sites)

    outcomes = sites.apply_each(
        [
            registration(sites, minted, "k-1"),
            release(sites, other, "k-2"),  # never held: refused, the rest goes on
            hold(sites, minted, "k-3"),
        ]
    )

    applied, refused, held = outcomes
    assert isinstance(refused, errors.PersonNotHeld)
    assert isinstance(applied, CommandResult) and isinstance(held, CommandResult)
    assert (applied.position, held.position) == (before + 1, before + 2)
    assert names(events_after(sites, before)) == ["Person.Registered", "Person.Held"]
    assert sites.journal.find_command(DEVICE_ACTOR, "k-2") is None


def test_a_step_refused_half_way_leaves_no_trace_on_what_it_touched(sites: Registry) -> None:
    free, held_one = uuid4(), uuid4()
    before = head(sites)

    def plan_both() -> CommandResult:
        # Places the first person on the manifest, then is refused on the second (held).
        return sites.plan_transfer(
            origin="RC-1",
            destination="CAMP-1",
            manifest=[free, held_one],
            occurred_at=FIXED_NOW - timedelta(minutes=20),
            actor=DEVICE_ACTOR,
            idempotency_key="plan",
        )

    outcomes = sites.apply_each(
        [
            registration(sites, free, "k-1"),
            registration(sites, held_one, "k-2"),
            hold(sites, held_one, "k-3"),
            plan_both,
            release(sites, held_one, "k-5"),
            hold(sites, free, "k-6"),
        ]
    )

    assert isinstance(outcomes[3], errors.PersonHeld)
    assert all(isinstance(o, CommandResult) for i, o in enumerate(outcomes) if i != 3)
    assert [type(e).__qualname__ for e in events_after(sites, before)] == [
        "Person.Registered",
        "Person.Registered",
        "Person.Held",
        "Person.Released",
        "Person.Held",
    ]
    assert person(sites, free).transfer_id is None


def test_an_unexpected_error_stops_apply_each_and_nothing_is_written(sites: Registry) -> None:
    minted = uuid4()
    before = head(sites)

    def broken() -> CommandResult:
        raise ConnectionError("database went away")

    with pytest.raises(StepFailed) as failure:
        sites.apply_each([registration(sites, minted, "k-1"), broken])

    assert failure.value.index == 1 and isinstance(failure.value.error, ConnectionError)
    assert head(sites) == before


def test_a_refused_repeat_of_a_key_does_not_turn_into_a_replay(sites: Registry) -> None:
    minted = uuid4()
    register_it = registration(sites, minted, "k-1")

    def same_key_other_command() -> CommandResult:
        return sites.hold_person(
            person_id=minted, reason="x", actor=DEVICE_ACTOR, idempotency_key="k-1"
        )

    outcomes = sites.apply_each([register_it, same_key_other_command])

    assert isinstance(outcomes[0], CommandResult) and not outcomes[0].replayed
    assert isinstance(outcomes[1], errors.IdempotencyKeyReused)


def test_the_keys_of_a_unit_are_looked_up_at_once(
    sites: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    minted = uuid4()
    register_it, hold_it = registration(sites, minted, "k-1"), hold(sites, minted, "k-2")
    keys = [(DEVICE_ACTOR, "k-1"), (DEVICE_ACTOR, "k-2"), (DEVICE_ACTOR, "k-1")]
    first = sites.apply_each([register_it, hold_it, register_it], keys=keys)
    one_by_one: list[str] = []
    looked_up = sites.journal.find_command

    def counted(actor: str, key: str) -> StoredCommand | None:
        one_by_one.append(key)
        return looked_up(actor, key)

    monkeypatch.setattr(sites.recorder, "find_command", counted)

    again = sites.apply_each([register_it, hold_it, register_it], keys=keys)

    assert one_by_one == []
    assert [o.replayed for o in first if isinstance(o, CommandResult)] == [False, False, True]
    assert [o.replayed for o in again if isinstance(o, CommandResult)] == [True, True, True]
    assert [getattr(o, "position", None) for o in again] == [
        getattr(o, "position", None) for o in first
    ]


def _resent_meanwhile(registry: Registry, step: Step) -> Step:
    """The step, first applied by a concurrent resend of the same batch (another thread)."""
    done: list[CommandResult] = []

    def racing() -> CommandResult:
        if not done:
            worker = threading.Thread(target=lambda: done.append(step()))
            worker.start()
            worker.join()
        return step()

    return racing


def test_a_concurrent_resend_makes_a_step_a_replay_not_a_refusal(sites: Registry) -> None:
    minted = uuid4()
    register_it = registration(sites, minted, "k-1")
    before = head(sites)

    [outcome] = sites.apply_each(
        [_resent_meanwhile(sites, register_it)], keys=[(DEVICE_ACTOR, "k-1")]
    )

    assert isinstance(outcome, CommandResult), outcome
    assert outcome.replayed and outcome.position == before + 1
    assert head(sites) == before + 1


def test_a_concurrent_resend_of_an_atomic_unit_is_a_replay_not_a_failure(
    sites: Registry,
) -> None:
    minted = uuid4()
    register_it = registration(sites, minted, "k-1")

    [outcome] = sites.apply_together(
        [_resent_meanwhile(sites, register_it)], keys=[(DEVICE_ACTOR, "k-1")]
    )

    assert outcome.replayed
