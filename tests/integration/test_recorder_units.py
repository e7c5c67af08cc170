"""Several commands in one save: each idempotency record keeps its own log position.

The same contract on both recorders (PostgreSQL, and the in-memory one of the domain tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from campledger.api.database.recorder import CampledgerRecorder
from campledger.domain.persistence.memory import InMemoryRecorder
from campledger.domain.service.journal import IdempotencyRecord, UniqueClaim

Recorder = CampledgerRecorder | InMemoryRecorder


@pytest.fixture(params=["postgres", "memory"])
def recorder(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    if request.param == "memory":
        yield InMemoryRecorder()
        return
    env: dict[str, str] = request.getfixturevalue("library_env")
    factory = PostgresFactory(Environment(name="Registry", env=env))
    try:
        found = factory.application_recorder()
        assert isinstance(found, CampledgerRecorder)
        found.create_table()
        yield found
    finally:
        factory.close()


def event(owner: UUID, version: int = 1) -> StoredEvent:
    return StoredEvent(
        originator_id=owner, originator_version=version, topic="tests:Happened", state=b"{}"
    )


def record(key: str, last_event: int | None) -> IdempotencyRecord:
    return IdempotencyRecord(
        "clerk@tablet-1", key, "hold_person", "fp-" + key, {"k": key}, last_event
    )


def test_each_record_of_a_save_gets_the_position_of_its_own_last_event(
    recorder: Recorder,
) -> None:
    a, b = uuid4(), uuid4()
    ids = recorder.insert_events(
        [event(a), event(a, 2), event(b)],
        idempotency_records=[record("first", 1), record("second", 2)],
    )
    assert ids is not None and len(ids) == 3
    first = recorder.find_command("clerk@tablet-1", "first")
    second = recorder.find_command("clerk@tablet-1", "second")
    assert first is not None and second is not None
    assert (first.position, second.position) == (ids[1], ids[2])
    assert (first.result, second.command) == ({"k": "first"}, "hold_person")


def test_one_taken_key_among_many_writes_nothing(recorder: Recorder) -> None:
    recorder.insert_events([event(uuid4())], idempotency=record("taken", None))
    later = uuid4()
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [event(later), event(later, 2)],
            claims=[UniqueClaim("registration_number", "R-1", later)],
            idempotency_records=[record("fresh", 0), record("taken", 1)],
        )
    assert recorder.select_events(later) == []
    assert recorder.find_command("clerk@tablet-1", "fresh") is None
    assert recorder.find_claim("registration_number", "R-1") is None


def test_the_same_key_twice_in_one_save_is_refused(recorder: Recorder) -> None:
    owner = uuid4()
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [event(owner), event(owner, 2)],
            idempotency_records=[record("twice", 0), record("twice", 1)],
        )
    assert recorder.select_events(owner) == []


def test_commands_are_found_many_at_a_time(recorder: Recorder) -> None:
    owner = uuid4()
    ids = recorder.insert_events(
        [event(owner), event(owner, 2)],
        idempotency_records=[record("one", 0), record("two", 1)],
    )
    assert ids is not None
    actor = "clerk@tablet-1"

    found = recorder.find_commands(
        [(actor, "one"), (actor, "two"), (actor, "three"), ("clerk@tablet-2", "one")]
    )

    assert set(found) == {(actor, "one"), (actor, "two")}
    assert (found[(actor, "one")].position, found[(actor, "two")].position) == (ids[0], ids[1])
    assert found[(actor, "two")].result == {"k": "two"}
    assert recorder.find_commands([]) == {}
