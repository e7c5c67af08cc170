"""A unit of work reads what its commands will look up at once, before the first is decided.

A field device's queue of 1,000 commands would otherwise wait on a few thousand round
trips: each command's registration number, biometric reference, minted id and person,
one query apiece. Read together, they are a few queries; decided, each command still
meets exactly the rules (and the errors) it meets alone, and whatever another writer
takes meanwhile makes the unit be decided again from what is stored.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from campledger.domain.commands import Command, HoldPerson, RegisterArrival
from campledger.domain.model import errors
from campledger.domain.model.values import PersonStatus
from campledger.domain.service.registry import CommandResult, Registry
from tests.domain.support import ACTOR, FIXED_NOW, arrival, person, register

DEVICE_ACTOR = f"{ACTOR}@tablet-7"
Step = Callable[[], CommandResult]


def arriving(person_id: UUID, number: str = "", **fields: Any) -> RegisterArrival:
    if number:
        fields["registration_number"] = number
    return RegisterArrival(site_code="RC-1", arrival=arrival(person_id=person_id, **fields))


def holding(person_id: UUID) -> HoldPerson:
    return HoldPerson(
        person_id=person_id,
        reason="interview",
        occurred_at=FIXED_NOW - timedelta(minutes=30),
        authority="Governor",
        order_reference="GOV-1",
    )


def queue(
    registry: Registry, commands: list[Command]
) -> tuple[list[Step], list[tuple[str, str]], list[Command]]:
    """Steps, keys and commands as offline sync gives them to the unit of work."""
    keys = [(DEVICE_ACTOR, f"k-{index}") for index in range(len(commands))]
    steps: list[Step] = [
        lambda c=command, k=key: registry.handle(c, actor=DEVICE_ACTOR, idempotency_key=k)
        for command, (_, key) in zip(commands, keys, strict=True)
    ]
    return steps, keys, commands


@pytest.fixture
def reads(sites: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How often the store was asked each kind of question."""
    counted: Counter[str] = Counter()
    recorder = sites.recorder
    for name in ("find_claim", "find_claims", "select_events", "select_events_of"):
        ask = getattr(recorder, name)

        def asked(*args: Any, _ask: Any = ask, _name: str = name, **kwargs: Any) -> Any:
            counted[_name] += 1
            return _ask(*args, **kwargs)

        monkeypatch.setattr(recorder, name, asked)
    yield counted


def test_a_queue_looks_up_its_claims_ids_and_persons_in_a_few_reads(
    sites: Registry, reads: Counter[str]
) -> None:
    earlier = register(sites)
    minted = [uuid4() for _ in range(20)]
    commands: list[Command] = [arriving(m, biometric_reference=f"BIO-{m}") for m in minted]
    commands += [holding(earlier), *(holding(m) for m in minted[:5])]
    reads.clear()

    outcomes = sites.apply_each(*queue(sites, commands)[:2], commands=commands)

    assert all(isinstance(o, CommandResult) and not o.replayed for o in outcomes), outcomes
    # One read per claim scope and one for every record, not one per command.
    assert reads == {"find_claims": 2, "select_events_of": 1}
    assert person(sites, earlier).status == PersonStatus.HELD
    assert all(person(sites, m).status == PersonStatus.HELD for m in minted[:5])


def test_a_resent_queue_looks_nothing_up_but_its_keys(sites: Registry, reads: Counter[str]) -> None:
    commands: list[Command] = [arriving(uuid4()) for _ in range(5)]
    steps, keys, _ = queue(sites, commands)
    first = sites.apply_each(steps, keys, commands=commands)
    reads.clear()

    again = sites.apply_each(steps, keys, commands=commands)

    assert reads == {}
    assert [o.replayed for o in again if isinstance(o, CommandResult)] == [True] * 5
    assert [getattr(o, "position", None) for o in again] == [
        getattr(o, "position", None) for o in first
    ]


def test_what_was_read_at_the_start_still_gives_each_command_its_own_refusal(
    sites: Registry,
) -> None:
    taken, minted = register(sites, registration_number="TAKEN-1"), uuid4()
    commands: list[Command] = [
        arriving(uuid4(), number="TAKEN-1"),  # the number is someone else's
        arriving(taken),  # the id too
        arriving(minted, number="NEW-1"),
        arriving(uuid4(), number="NEW-1"),  # claimed by the command before it
        holding(uuid4()),  # nobody has this id
        holding(minted),
    ]

    outcomes = sites.apply_each(*queue(sites, commands)[:2], commands=commands)

    assert [type(o).__name__ for o in outcomes] == [
        "DuplicateRegistrationNumber",
        "PersonAlreadyRegistered",
        "CommandResult",
        "DuplicateRegistrationNumber",
        "PersonNotFound",
        "CommandResult",
    ]
    assert person(sites, minted).status == PersonStatus.HELD


def _meanwhile(registry: Registry, step: Step, elsewhere: Callable[[], object]) -> Step:
    """The step, after another writer did something of its own (once, in another thread)."""
    done: list[object] = []

    def racing() -> CommandResult:
        if not done:
            worker = threading.Thread(target=lambda: done.append(elsewhere()))
            worker.start()
            worker.join()
        return step()

    return racing


def test_a_number_claimed_elsewhere_after_it_was_read_is_decided_again(
    sites: Registry,
) -> None:
    commands: list[Command] = [arriving(uuid4()), arriving(uuid4()), arriving(uuid4(), "LATE-1")]
    steps, keys, _ = queue(sites, commands)
    # After the unit read that LATE-1 is free, another device registers someone with it.
    steps[1] = _meanwhile(sites, steps[1], lambda: register(sites, registration_number="LATE-1"))

    outcomes = sites.apply_each(steps, keys, commands=commands)

    assert isinstance(outcomes[0], CommandResult) and isinstance(outcomes[1], CommandResult)
    assert isinstance(outcomes[2], errors.DuplicateRegistrationNumber)
    assert sites.journal.find_command(DEVICE_ACTOR, "k-2") is None


def test_an_id_taken_elsewhere_after_it_was_read_is_decided_again(sites: Registry) -> None:
    minted = uuid4()
    commands: list[Command] = [arriving(uuid4()), arriving(minted)]
    steps, keys, _ = queue(sites, commands)
    # After the unit read that the minted id is free, another device registers it.
    steps[0] = _meanwhile(
        sites,
        steps[0],
        lambda: sites.register_arrival(
            site_code="RC-2", arrival=arrival(person_id=minted), actor="another-device"
        ),
    )

    outcomes = sites.apply_each(steps, keys, commands=commands)

    assert isinstance(outcomes[0], CommandResult)
    assert isinstance(outcomes[1], errors.PersonAlreadyRegistered)
    assert person(sites, minted).site_code == "RC-2"
