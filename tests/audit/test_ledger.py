"""The ledger chain: kept as a read model, recomputed by verify, broken by any tampering."""

from __future__ import annotations

from typing import Any

import psycopg

from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.ledger import (
    ENCODE_SQL,
    GENESIS,
    Ledger,
    current_digest,
    encode,
    next_link,
)
from campledger.projections.verify import prove_digest, verify_log
from tests.projections.lifecycle import arrival, full_lifecycle


def project(database_url: str, batch_size: int = 7) -> None:
    # Small batches so the chain is carried across many batch boundaries.
    with Projector(database_url, [Ledger], batch_size=batch_size) as projector:
        projector.catch_up()


def bypass_trigger(admin: psycopg.Connection[Any]) -> None:
    # What an attacker with superuser rights would do first; without `db secure` there is
    # no trigger and this is a no-op.
    admin.execute("SET session_replication_role = replica")


def positions(admin: psycopg.Connection[Any]) -> list[int]:
    rows = admin.execute("SELECT notification_id FROM registry_events ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def test_python_and_sql_encode_the_same_bytes(
    registry: Registry, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry, until=5)
    rows = admin.execute(
        f"SELECT notification_id, originator_id, originator_version, topic, state, "
        f"{ENCODE_SQL} FROM registry_events ORDER BY notification_id"
    ).fetchall()
    assert rows
    for position, originator_id, version, topic, state, encoded in rows:
        assert encode(position, originator_id, version, topic, bytes(state)) == bytes(encoded)


def test_unaltered_log_verifies_and_matches_the_stored_chain(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    report = verify_log(database_url)
    assert report.ok, report
    assert report.events == len(positions(admin))
    head = current_digest(admin)
    assert head is not None
    assert (head.position, head.hex) == (report.head, report.digest)
    # Recomputed independently, event by event, from the stored rows.
    link = GENESIS
    for row in admin.execute(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM registry_events ORDER BY notification_id"
    ):
        link = next_link(link, encode(row[0], row[1], row[2], row[3], bytes(row[4])))
    assert link == head.digest


def test_altered_bytes_are_named_by_position(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    target = positions(admin)[9]
    bypass_trigger(admin)
    admin.execute(
        "UPDATE registry_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'officer-1', 'officer-2'), 'UTF8') WHERE notification_id = %s",
        (target,),
    )
    report = verify_log(database_url)
    assert not report.ok
    assert report.broken_at == target
    assert report.problem is not None and "mismatch" in report.problem


def test_a_deleted_row_is_detected(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    target = positions(admin)[5]
    bypass_trigger(admin)
    admin.execute("DELETE FROM registry_events WHERE notification_id = %s", (target,))
    report = verify_log(database_url)
    assert not report.ok
    assert report.broken_at == target
    assert report.problem is not None and "missing" in report.problem


def test_the_last_row_deleted_is_detected(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry, until=5)
    project(database_url)
    target = positions(admin)[-1]
    bypass_trigger(admin)
    admin.execute("DELETE FROM registry_events WHERE notification_id = %s", (target,))
    report = verify_log(database_url)
    assert (report.ok, report.broken_at) == (False, target)


def test_reordered_rows_are_detected(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    first, second = positions(admin)[3], positions(admin)[8]
    bypass_trigger(admin)
    # Swap the two rows' positions (through a free id, the column is unique).
    admin.execute(
        "UPDATE registry_events SET notification_id = -1 WHERE notification_id = %s", (first,)
    )
    admin.execute(
        "UPDATE registry_events SET notification_id = %s WHERE notification_id = %s",
        (first, second),
    )
    admin.execute(
        "UPDATE registry_events SET notification_id = %s WHERE notification_id = -1", (second,)
    )
    report = verify_log(database_url)
    assert (report.ok, report.broken_at) == (False, first)


def test_swapped_states_are_detected(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    first, second = positions(admin)[2], positions(admin)[3]
    bypass_trigger(admin)
    admin.execute(
        "UPDATE registry_events e SET state = o.state FROM registry_events o "
        "WHERE (e.notification_id, o.notification_id) IN ((%s, %s), (%s, %s))",
        (first, second, second, first),
    )
    report = verify_log(database_url)
    assert (report.ok, report.broken_at) == (False, first)


def test_a_row_slipped_in_below_the_head_is_detected(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    bypass_trigger(admin)
    admin.execute(
        "INSERT INTO registry_events (originator_id, originator_version, topic, state, "
        "notification_id) SELECT originator_id, originator_version + 100, topic, state, 0 "
        "FROM registry_events ORDER BY notification_id LIMIT 1"
    )
    report = verify_log(database_url)
    assert (report.ok, report.broken_at) == (False, 0)


def test_a_kept_digest_still_verifies_after_new_events(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    lifecycle = full_lifecycle(registry, until=6)
    project(database_url)
    kept = current_digest(admin)
    assert kept is not None
    registry.release_person(
        person_id=lifecycle.held, reason="cleared", occurred_at=None, actor="officer-1"
    )
    project(database_url)
    assert verify_log(database_url).ok
    proof = prove_digest(database_url, kept.position, kept.hex)
    assert proof.ok, proof
    assert not prove_digest(database_url, kept.position, "00" * 32).ok


def test_a_kept_digest_catches_a_rewritten_log_and_ledger(
    registry: Registry, database_url: str, admin: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    kept = current_digest(admin)
    assert kept is not None
    bypass_trigger(admin)
    admin.execute(
        "UPDATE registry_events SET state = state || ' '::bytea WHERE notification_id = %s",
        (positions(admin)[1],),
    )
    # The attacker rebuilds the ledger too, so the stored chain agrees with the altered log...
    with Projector(database_url, [Ledger]) as projector:
        projector.rebuild()
    assert verify_log(database_url).ok
    # ...but not with the digest the auditor kept.
    proof = prove_digest(database_url, kept.position, kept.hex)
    assert not proof.ok
    assert proof.recomputed != kept.hex


def test_events_past_the_ledger_are_reported_unverified(
    registry: Registry, database_url: str
) -> None:
    full_lifecycle(registry, until=5)
    project(database_url)
    # Recorded but not yet projected: recomputed, but there is no stored link to compare.
    registry.register_arrivals(site_code="RC-1", arrivals=[arrival("R-900")], actor="officer-1")
    report = verify_log(database_url)
    assert report.ok
    assert report.unverified == 1
