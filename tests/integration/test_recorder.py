"""The PostgreSQL recorder keeps events, claims and idempotency records all or nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from campledger.api.database.recorder import CampledgerRecorder
from campledger.domain.service.journal import IdempotencyRecord, UniqueClaim

pytestmark = pytest.mark.postgres


@pytest.fixture
def factory(library_env: dict[str, str]) -> Iterator[PostgresFactory]:
    factory = PostgresFactory(Environment(name="Registry", env=library_env))
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def recorder(factory: PostgresFactory) -> CampledgerRecorder:
    recorder = factory.application_recorder()
    assert isinstance(recorder, CampledgerRecorder)
    return recorder


def event(owner: UUID, version: int = 1, topic: str = "tests:Happened") -> StoredEvent:
    return StoredEvent(
        originator_id=owner, originator_version=version, topic=topic, state=b'{"a":1}'
    )


def count(database_url: str, table: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_tables_are_named_after_the_event_table(recorder: CampledgerRecorder) -> None:
    assert recorder.events_table_name == "registry_events"
    assert recorder.claims_table_name == "registry_events_claims"
    assert recorder.commands_table_name == "registry_events_commands"


def test_notification_ids_follow_input_order(recorder: CampledgerRecorder) -> None:
    owners = [uuid4() for _ in range(1000)]
    ids = recorder.insert_events([event(o) for o in owners])
    assert ids is not None
    assert list(ids) == list(range(ids[0], ids[0] + 1000))
    notifications = recorder.select_notifications(start=ids[0], limit=1000)
    assert [n.originator_id for n in notifications] == owners


def test_claims_are_stored_with_the_events(recorder: CampledgerRecorder) -> None:
    person = uuid4()
    recorder.insert_events(
        [event(person)], claims=[UniqueClaim("registration_number", "KEN-1", person)]
    )
    assert recorder.find_claim("registration_number", "KEN-1") == person
    assert recorder.find_claim("registration_number", "KEN-2") is None


def test_a_taken_claim_rejects_the_whole_command(
    recorder: CampledgerRecorder, database_url: str
) -> None:
    first, second = uuid4(), uuid4()
    recorder.insert_events(
        [event(first)], claims=[UniqueClaim("registration_number", "KEN-1", first)]
    )
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [event(second)],
            claims=[
                UniqueClaim("biometric", "B-9", second),
                UniqueClaim("registration_number", "KEN-1", second),
            ],
            idempotency=IdempotencyRecord("clerk", "k1", "register", "fp", {"id": "x"}),
        )
    assert recorder.select_events(second) == []
    assert recorder.find_claim("biometric", "B-9") is None
    assert recorder.find_command("clerk", "k1") is None
    assert count(database_url, "registry_events") == 1


def test_a_taken_claim_is_refused_at_once_every_time(recorder: CampledgerRecorder) -> None:
    # The claims are written before the events in one pipeline; whether the server's refusal
    # reached psycopg before or after the events were sent, it must come out as the clash
    # it is. It came out as "pipeline aborted" about every other time: an OperationalError,
    # retried 0.2 s later up to ten times, then answered 503 "database unavailable".
    owner = uuid4()
    recorder.insert_events([event(owner)], claims=[UniqueClaim("registration_number", "T", owner)])
    once = type(
        recorder
    )._insert_events_retried.__wrapped__  # without the retry of lost connections
    for _ in range(40):
        other = uuid4()
        with pytest.raises(IntegrityError):
            once(
                recorder,
                [event(other)],
                claims=[UniqueClaim("registration_number", "T", other)],
                idempotency=IdempotencyRecord("clerk", f"k-{other}", "register", "fp", {}),
            )
        assert recorder.select_events(other) == []
        assert recorder.find_command("clerk", f"k-{other}") is None


def test_the_same_value_twice_in_one_command_is_refused(recorder: CampledgerRecorder) -> None:
    a, b = uuid4(), uuid4()
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [event(a), event(b)],
            claims=[
                UniqueClaim("registration_number", "X", a),
                UniqueClaim("registration_number", "X", b),
            ],
        )
    assert recorder.select_events(a) == []


def test_released_claims_can_be_taken_again_in_the_same_command(
    recorder: CampledgerRecorder,
) -> None:
    old, new = uuid4(), uuid4()
    recorder.insert_events([event(old)], claims=[UniqueClaim("registration_number", "A", old)])
    recorder.insert_events(
        [event(old, 2), event(new)],
        released=[UniqueClaim("registration_number", "A", old)],
        claims=[UniqueClaim("registration_number", "A", new)],
    )
    assert recorder.find_claim("registration_number", "A") == new


def test_a_release_by_someone_else_does_not_free_the_value(recorder: CampledgerRecorder) -> None:
    owner, other = uuid4(), uuid4()
    recorder.insert_events([event(owner)], claims=[UniqueClaim("biometric", "B", owner)])
    recorder.insert_events([event(other)], released=[UniqueClaim("biometric", "B", other)])
    assert recorder.find_claim("biometric", "B") == owner


def test_idempotency_record_keeps_result_and_last_position(recorder: CampledgerRecorder) -> None:
    a, b = uuid4(), uuid4()
    ids = recorder.insert_events(
        [event(a), event(b)],
        idempotency=IdempotencyRecord(
            "clerk", "key-1", "register_arrival", "abc", {"person_id": str(a), "n": [1, 2]}
        ),
    )
    assert ids is not None
    stored = recorder.find_command("clerk", "key-1")
    assert stored is not None
    assert stored.command == "register_arrival"
    assert stored.fingerprint == "abc"
    assert stored.result == {"person_id": str(a), "n": [1, 2]}
    assert stored.position == max(ids)
    assert recorder.find_command("other-clerk", "key-1") is None


def test_a_reused_idempotency_key_writes_nothing(recorder: CampledgerRecorder) -> None:
    record = IdempotencyRecord("clerk", "key-1", "register_arrival", "abc", {})
    recorder.insert_events([event(uuid4())], idempotency=record)
    later = uuid4()
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [event(later)], claims=[UniqueClaim("s", "v", later)], idempotency=record
        )
    assert recorder.select_events(later) == []
    assert recorder.find_claim("s", "v") is None


def test_a_key_is_looked_up_and_claimed_in_one_statement(
    recorder: CampledgerRecorder, database_url: str
) -> None:
    first = recorder.claim_key("clerk", "k-new", 30)
    assert first.claimed and first.stored is None
    # Held by that request: refused to a copy, for the claim's lifetime only.
    assert recorder.claim_key("clerk", "k-new", 30) == (False, None)
    assert recorder.claim_key("clerk", "k-new", 0).claimed
    recorder.release_key("clerk", "k-new")
    # A key already used is answered with its command, and not claimed again.
    record = IdempotencyRecord("clerk", "k-used", "register_arrival", "abc", {"n": 1})
    ids = recorder.insert_events([event(uuid4())], idempotency=record)
    assert ids is not None
    used = recorder.claim_key("clerk", "k-used", 30)
    assert not used.claimed and used.stored is not None
    assert (used.stored.command, used.stored.fingerprint) == ("register_arrival", "abc")
    assert (used.stored.result, used.stored.position) == ({"n": 1}, max(ids))
    assert count(database_url, "registry_events_inflight") == 0


def test_the_save_that_answers_a_key_lets_go_of_its_claim(
    recorder: CampledgerRecorder, database_url: str
) -> None:
    assert recorder.claim_key("clerk", "k-held", 30).claimed
    record = IdempotencyRecord("clerk", "k-held", "register_arrival", "abc", {})
    recorder.insert_events([event(uuid4())], idempotency=record, in_flight=("clerk", "k-held"))
    assert count(database_url, "registry_events_inflight") == 0
    # A refused save keeps the claim: the Registry lets it go apart.
    assert recorder.claim_key("clerk", "k-refused", 30).claimed
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [event(uuid4())], idempotency=record, in_flight=("clerk", "k-refused")
        )
    assert count(database_url, "registry_events_inflight") == 1


def test_a_version_clash_writes_nothing(recorder: CampledgerRecorder, database_url: str) -> None:
    person, other = uuid4(), uuid4()
    recorder.insert_events([event(person)])
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            [event(other), event(person, 1)],
            claims=[UniqueClaim("registration_number", "R", other)],
            idempotency=IdempotencyRecord("clerk", "k", "c", "f", {}),
        )
    assert recorder.select_events(other) == []
    assert recorder.find_claim("registration_number", "R") is None
    assert recorder.find_command("clerk", "k") is None
    assert count(database_url, "registry_events") == 1
    # The recorder is still usable after the refused command.
    assert recorder.insert_events([event(person, 2)])


def test_concurrent_writers_leave_no_gaps_in_commit_order(recorder: CampledgerRecorder) -> None:
    batches: list[list[int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write() -> None:
        try:
            for _ in range(10):
                ids = recorder.insert_events([event(uuid4()) for _ in range(50)])
                assert ids is not None
                with lock:
                    batches.append(list(ids))
        except BaseException as e:  # collected for the main thread
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(batches) == 60
    for ids in batches:
        # Each command's events hold one contiguous run of positions.
        assert ids == list(range(ids[0], ids[0] + 50))
    everything = sorted(i for ids in batches for i in ids)
    assert everything == list(range(everything[0], everything[0] + 3000))
    notifications = recorder.select_notifications(start=everything[0], limit=5000)
    assert [n.id for n in notifications] == everything


def test_registries_started_at_once_all_set_up_the_store(library_env: dict[str, str]) -> None:
    """API workers start together; each one's schema setup must succeed."""
    from campledger.domain.service.registry import Registry

    failures: list[BaseException] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            Registry(env=library_env).close()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
