"""A rebuild from position 0 gives the very tables that live projection built, and
readers keep getting the old tables, whole, until the swap."""

from __future__ import annotations

import random
import threading
import time
from itertools import islice
from typing import Any

import psycopg
from psycopg import sql

from campledger.domain.service.registry import Registry
from campledger.projections.audit_log import AuditLog
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector, projector_thread
from campledger.projections.ledger import Ledger
from campledger.projections.roster import roster_page
from tests.projections.engine_support import (
    RECEPTION,
    Reception,
    assert_same_tables,
    checkpoints,
    conn,
    head,
    open_sites,
    registry,
    snapshot,
)

__all__ = ["conn", "registry"]


def test_rebuild_gives_the_tables_projected_after_every_command(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    commands = 0
    with Projector(database_url) as projector:
        open_sites(registry)
        projector.catch_up()
        for result in Reception(registry, random.Random(3), "I").run(rounds=6, batch_size=40):
            assert projector.catch_up() == result.position
            commands += 1
    assert commands > 60
    incremental = snapshot(conn)

    with Projector(database_url) as projector:
        summary = projector.rebuild()
    assert summary.models == [m.name for m in READ_MODELS]
    assert summary.events == summary.head == head(conn)
    assert set(checkpoints(conn).values()) == {head(conn)}
    rebuilt = snapshot(conn)
    assert_same_tables(rebuilt, incremental)
    assert summary.rows == {m: sum(map(len, tables.values())) for m, tables in rebuilt.items()}


def schemas(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read\\_%'")
    return {r[0] for r in rows}


def rows_in(conn: psycopg.Connection[Any], schema: str, table: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
    ).fetchone()
    return int(row[0]) if row else 0


# A read model rebuilt batch by batch, along the live path, with a row per event.
BATCHED = Ledger


def model_rows(conn: psycopg.Connection[Any], schema: str) -> int:
    """Rows in a read model's own tables (checkpoint, shape and quarantine aside)."""
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name NOT IN ('tracking', 'shape', 'quarantine')",
        (schema,),
    ).fetchall()
    return sum(rows_in(conn, schema, table) for (table,) in tables)


def read(reader: psycopg.Connection[Any]) -> tuple[tuple[str, ...], int, int]:
    page = roster_page(reader, RECEPTION, status="present", limit=20)
    row = reader.execute(
        "SELECT count(*) FROM read_roster.roster WHERE status = 'present'"
    ).fetchone()
    present = int(row[0]) if row else 0
    numbers = tuple(r["registration_number"] for r in page.rows)
    return numbers, present, rows_in(reader, AuditLog.live_schema(), "entries")


class Reader(threading.Thread):
    """Reads the roster and the audit log over and over, as the API would, until stopped."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True, name="reader")
        self.database_url = database_url
        self.stop = threading.Event()
        # (the first roster page, people present, audit entries) at each read
        self.seen: list[tuple[tuple[str, ...], int, int]] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            with psycopg.connect(self.database_url, autocommit=True) as reader:
                while not self.stop.is_set():
                    self.seen.append(read(reader))
                    time.sleep(0.001)
        except BaseException as e:  # reported by the test, not lost in the thread
            self.errors.append(e)


def test_reads_keep_using_the_old_tables_until_the_swap(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    for _ in Reception(registry, random.Random(5), "R").run(rounds=5, batch_size=400):
        pass
    with Projector(database_url) as projector:
        projector.catch_up()
    before = snapshot(conn)
    first_read = read(conn)
    _page, present, entries = first_read
    assert present > 1_000 and entries == head(conn)

    mid_rebuild: list[int] = []

    def check_mid_rebuild(done: int, total: int) -> None:
        if 0 < done < total and len(mid_rebuild) < 3:
            # Half built in its own schema; the live one untouched. (A model folded in
            # memory is written at the end; one on the live path goes batch by batch.)
            assert "read_roster__rebuild" in schemas(conn)
            assert BATCHED().fold() is None
            fresh = f"{BATCHED.live_schema()}__rebuild"
            assert 0 < model_rows(conn, fresh) < model_rows(conn, BATCHED.live_schema())
            assert_same_tables(snapshot(conn), before)
            mid_rebuild.append(done)

    reader = Reader(database_url)
    reader.start()
    try:
        with Projector(database_url, batch_size=200) as projector:
            projector.rebuild(progress=check_mid_rebuild)
        # Keep reading the swapped-in tables for a moment.
        time.sleep(0.1)
    finally:
        reader.stop.set()
        reader.join(timeout=10)

    assert len(mid_rebuild) == 3
    assert not reader.errors, reader.errors
    assert len(reader.seen) > 20
    # Every read, before, during and after the swap, saw whole tables.
    assert set(reader.seen) == {first_read}
    assert not {s for s in schemas(conn) if s.endswith(("__rebuild", "__old"))}
    assert_same_tables(snapshot(conn), before)


def wait_for_head(conn: psycopg.Connection[Any], follower: threading.Thread) -> None:
    deadline = time.monotonic() + 60
    while set(checkpoints(conn).values()) != {head(conn)}:
        assert follower.is_alive(), "the live projector died"
        assert time.monotonic() < deadline, (checkpoints(conn), head(conn))
        time.sleep(0.01)


def test_live_projector_carries_on_in_the_tables_a_rebuild_swapped_in(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    commands = Reception(registry, random.Random(9), "L").run(rounds=6, batch_size=200)
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            with Projector(database_url, batch_size=100) as rebuilder:
                rebuilder.rebuild()
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)

    with projector_thread(Projector(database_url, batch_size=50)) as follower:
        # Enough batches that the live projector's statements are prepared server-side.
        for _ in islice(commands, 50):
            pass
        wait_for_head(conn, follower)
        swapped = {s for s in schemas(conn) if s.startswith("read_")}
        rebuilder = threading.Thread(target=rebuild)
        rebuilder.start()
        for _ in islice(commands, 40):  # officers keep writing through the rebuild
            pass
        rebuilder.join(timeout=60)
        assert not errors, errors
        for _ in commands:
            pass
        wait_for_head(conn, follower)
    assert schemas(conn) == swapped
    live = snapshot(conn)
    with Projector(database_url) as projector:
        projector.rebuild()
    assert_same_tables(snapshot(conn), live)


def test_a_rebuild_gives_the_planner_statistics_on_the_tables_it_swaps_in(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    # Without statistics the planner took a site of 20,000 for one row, and served each
    # roster page of 100 by reading and sorting the whole site (9 ms instead of 0.1 ms)
    # until autovacuum came round.
    open_sites(registry)
    for _ in Reception(registry, random.Random(11), "S").run(rounds=2, batch_size=100):
        pass
    with Projector(database_url) as projector:
        projector.rebuild()
    filled = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname LIKE 'read\\_%' AND c.relkind = 'r' AND c.reltuples > 0"
    ).fetchall()
    assert ("read_roster", "roster") in filled
    analysed = set(
        conn.execute(
            "SELECT DISTINCT schemaname, tablename FROM pg_stats WHERE schemaname LIKE 'read\\_%'"
        ).fetchall()
    )
    assert set(filled) <= analysed
