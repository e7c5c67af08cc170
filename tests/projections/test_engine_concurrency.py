"""Several officers write at once while the live projector follows the log: no event is
skipped and none applied twice.

The danger is a position handed out to a slow transaction (a truckload of registrations)
before a fast one (a walk-in) takes a higher one and commits first: a projector woken by
the fast commit would read past the slow one's positions and never come back. The
recorder's insert lock makes commit order equal position order; with it taken away
(``CampledgerRecorder._lock_table`` a no-op) this test fails with audit entries, ledger
links and roster rows missing.

The writers work in waves: in each, two officers register a truckload while the other two
run the desk's single commands, so short transactions commit while long inserts are in
flight; between waves the projector catches up, so that it waits at the head of the log,
where a position committed out of order would be passed over.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from campledger.domain.service.registry import Registry
from campledger.projections.audit_log import AuditLog
from campledger.projections.engine import Projector, projector_thread
from campledger.projections.ledger import Ledger
from campledger.projections.roster import Roster
from tests.projections.engine_support import (
    Reception,
    assert_same_tables,
    checkpoints,
    conn,
    log_positions,
    open_sites,
    snapshot,
)

__all__ = ["conn"]

WRITERS = 4
WAVES = 10
TIMEOUT = 60.0


class Officer(threading.Thread):
    """One writer with a Registry of its own (its own connection pool), as an API worker."""

    def __init__(self, registry: Registry, number: int, waves: threading.Barrier) -> None:
        super().__init__(daemon=True, name=f"officer-{number}")
        self.reception = Reception(registry, random.Random(number), f"W{number}")
        self.number = number
        self.waves = waves
        self.errors: list[BaseException] = []

    @property
    def registered(self) -> list[UUID]:
        return self.reception.registered

    def run(self) -> None:
        try:
            for wave in range(WAVES):
                self.waves.wait(timeout=TIMEOUT)  # the wave starts
                if (self.number + wave) % 2:
                    self.reception.register_batch(200 + 50 * (self.number % 2))
                else:
                    for _command in self.reception.small_steps():
                        pass
                self.waves.wait(timeout=TIMEOUT)  # every officer is done with it
        except BaseException as e:  # reported by the test, not lost in the thread
            self.errors.append(e)
            self.waves.abort()


def positions_in(conn: psycopg.Connection[Any], schema: str, table: str) -> list[int]:
    rows = conn.execute(
        sql.SQL("SELECT position FROM {} ORDER BY position").format(sql.Identifier(schema, table))
    ).fetchall()
    return [int(r[0]) for r in rows]


def assert_same_positions(where: str, got: list[int], expected: list[int]) -> None:
    """Compared as sets and counts: a list diff of thousands of positions takes minutes."""
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing, f"{where} lacks {len(missing)} positions, first {missing[:10]}"
    assert not extra, f"{where} has {len(extra)} unexpected positions, first {extra[:10]}"
    assert len(got) == len(expected), f"{where} holds some position twice"


def wait_for_head(conn: psycopg.Connection[Any], follower: threading.Thread) -> None:
    """Until every read model's checkpoint is the log's last position."""
    deadline = time.monotonic() + TIMEOUT
    while set(checkpoints(conn).values()) != {log_positions(conn)[-1]}:
        assert follower.is_alive(), "the live projector died"
        assert time.monotonic() < deadline, (checkpoints(conn), log_positions(conn)[-1])
        time.sleep(0.01)


def test_concurrent_writers_no_event_skipped_or_applied_twice(
    library_env: dict[str, str], database_url: str, conn: psycopg.Connection[Any]
) -> None:
    # Built one after another: Registries set up their tables when constructed, and
    # PostgreSQL refuses concurrent CREATE OR REPLACE of the same function.
    registries = [Registry(env=library_env) for _ in range(WRITERS)]
    try:
        open_sites(registries[0])
        check_writers_and_projector(registries, database_url, conn)
    finally:
        for registry in registries:
            registry.close()


def check_writers_and_projector(
    registries: list[Registry], database_url: str, conn: psycopg.Connection[Any]
) -> None:
    waves = threading.Barrier(WRITERS + 1)
    officers = [Officer(registry, n, waves) for n, registry in enumerate(registries)]
    with projector_thread(Projector(database_url, batch_size=100)) as follower:
        for officer in officers:
            officer.start()
        for _wave in range(WAVES):
            waves.wait(timeout=TIMEOUT)
            waves.wait(timeout=TIMEOUT)
            wait_for_head(conn, follower)
        for officer in officers:
            officer.join(timeout=TIMEOUT)
        wait_for_head(conn, follower)
    assert not [e for o in officers for e in o.errors], [e for o in officers for e in o.errors]

    log = log_positions(conn)
    # Writers never touch each other's records: no conflicts, so no holes in positions.
    assert_same_positions("the event log", log, list(range(1, len(log) + 1)))
    assert_same_positions(
        "the audit log", positions_in(conn, AuditLog.live_schema(), "entries"), log
    )
    assert_same_positions("the ledger", positions_in(conn, Ledger.live_schema(), "links"), log)
    registered = [p for o in officers for p in o.registered]
    assert len(registered) == len(set(registered)) > WRITERS * WAVES * 50
    rows = conn.execute(
        sql.SQL("SELECT person_id FROM {}").format(sql.Identifier(Roster.live_schema(), "roster"))
    ).fetchall()
    on_roster = [r[0] for r in rows]
    assert len(on_roster) == len(set(on_roster))
    assert not set(registered) ^ set(on_roster), (
        f"{len(set(registered) - set(on_roster))} registered persons missing from the roster, "
        f"{len(set(on_roster) - set(registered))} unknown ones on it"
    )

    live = snapshot(conn)
    with Projector(database_url) as projector:
        projector.rebuild()
    assert_same_tables(snapshot(conn), live)
