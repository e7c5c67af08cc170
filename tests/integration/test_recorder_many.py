"""The PostgreSQL recorder with many records at once: a large save sent whole while the
server is busy, and the events of many records read in one query."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from campledger.api.database.recorder import CampledgerRecorder
from campledger.domain.service.journal import IdempotencyRecord, UniqueClaim

pytestmark = pytest.mark.postgres


@pytest.fixture
def recorder(library_env: dict[str, str]) -> Iterator[CampledgerRecorder]:
    factory = PostgresFactory(Environment(name="Registry", env=library_env))
    recorder = factory.application_recorder()
    assert isinstance(recorder, CampledgerRecorder)
    try:
        yield recorder
    finally:
        factory.close()


def event(owner: UUID, version: int = 1, size: int = 16) -> StoredEvent:
    return StoredEvent(
        originator_id=owner, originator_version=version, topic="tests:Happened", state=b"x" * size
    )


def test_a_large_save_behind_a_slow_statement_is_sent_whole(
    recorder: CampledgerRecorder, database_url: str
) -> None:
    # Another writer holds the insert lock, so the server stops at the save's lock while
    # the save's 3 MB are still being sent. psycopg's pipeline sync used to stop writing
    # once its queue was empty with part of them still on the client, and then wait for
    # an answer the server could not give before reading them: both sides waited for
    # ever, the lock held. (The recorder sends everything before it syncs.)
    owners = [uuid4() for _ in range(3_000)]
    records = [IdempotencyRecord("device", f"k-{i}", "c", "f", {"i": i}) for i in range(3_000)]
    claims = [UniqueClaim("registration_number", f"N-{i}", o) for i, o in enumerate(owners)]
    saved: list[object] = []
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE registry_events IN EXCLUSIVE MODE")
        writer = threading.Thread(
            target=lambda: saved.append(
                recorder.insert_events(
                    [event(o, size=1_000) for o in owners],
                    claims=claims,
                    idempotency_records=records,
                )
            ),
            daemon=True,
        )
        writer.start()
        writer.join(timeout=1)  # it waits for the lock, its statements sent or being sent
        assert writer.is_alive()
    # The holder committed: the lock is free.
    writer.join(timeout=30)

    assert not writer.is_alive(), "the save waited for ever"
    [ids] = saved
    assert isinstance(ids, list) and len(ids) == 3_000
    assert recorder.find_commands([("device", "k-2999")])[("device", "k-2999")].position == ids[-1]


def test_the_events_of_many_records_are_read_in_one_query(
    recorder: CampledgerRecorder,
) -> None:
    first, second, nobody = uuid4(), uuid4(), uuid4()
    recorder.insert_events([event(first, 1), event(second, 1)])
    recorder.insert_events([event(first, 2), event(first, 3)])

    found = recorder.select_events_of([first, second, nobody])

    assert set(found) == {first, second}
    assert [e.originator_version for e in found[first]] == [1, 2, 3]
    assert [(e.originator_id, e.state) for e in found[second]] == [(second, b"x" * 16)]
    assert recorder.select_events_of([]) == {}
