"""A rebuild filled in several processes: the models shared out by cost, the very tables a
one-process rebuild gives, really filled elsewhere, and a helper's failure reported
without anything swapped in."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from functools import partial
from itertools import islice
from typing import Any

import psycopg
import pytest
from psycopg import sql

from campledger.api.database.keystore import install_key_store
from campledger.domain.service.registry import CommandResult, Registry
from campledger.projections import rebuild as rebuilding
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from campledger.projections.rebuild import REBUILD_COST, fresh, shares
from campledger.projections.roster import Roster
from tests.conftest import MASTER_KEY_FILE
from tests.projections.engine_support import (
    Reception,
    assert_same_tables,
    checkpoints,
    conn,
    head,
    open_sites,
    registry,
    snapshot,
)
from tests.projections.projector_process import APPLICATION
from tests.projections.rebuild_models import BrokenFold, WhoFilled
from tests.projections.test_engine_crash import ROOT, build_log
from tests.projections.test_engine_rebuild_one import write_during

__all__ = ["conn", "registry"]

# What the composition root gives a projector: each helper loads the same master key.
SETUP = partial(install_key_store, MASTER_KEY_FILE)


def test_models_are_shared_out_by_cost_each_once_and_no_share_empty() -> None:
    models = [fresh(cls) for cls in READ_MODELS]
    two = shares(models, 2)
    assert len(two) == 2
    assert sorted(m.name for group in two for m in group) == sorted(m.name for m in models)
    costs = [sum(REBUILD_COST[m.name] for m in group) for group in two]
    # The costliest model alone is 70 of 260: greedy sharing keeps the two within that.
    assert abs(costs[0] - costs[1]) <= max(REBUILD_COST.values())
    # The two costliest, the duplicates and the roster, go to different processes.
    assert [{m.name for m in g} & {"duplicates", "roster"} for g in two] == [
        {"duplicates"},
        {"roster"},
    ]
    assert [len(g) for g in shares(models[:3], 8)] == [1, 1, 1]
    assert shares(models, 1) == [models]


def test_two_processes_give_the_tables_of_one_and_the_second_really_fills(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    for _ in Reception(registry, random.Random(21), "P").run(rounds=4, batch_size=60):
        pass
    models = [*READ_MODELS, WhoFilled]
    with Projector(database_url, models) as projector:
        projector.rebuild()
    alone = snapshot(conn, READ_MODELS)

    reported: list[tuple[int, int]] = []
    with Projector(
        database_url, models, batch_size=500, rebuild_processes=2, process_setup=SETUP
    ) as projector:
        summary = projector.rebuild(progress=lambda done, total: reported.append((done, total)))
    assert summary.events == summary.head == head(conn)
    assert set(checkpoints(conn).values()) == {head(conn)}
    assert_same_tables(snapshot(conn, READ_MODELS), alone)
    fillers = {pid for (pid,) in conn.execute("SELECT pid FROM read_who_filled.fillers")}
    assert fillers and os.getpid() not in fillers  # the cheap model went to the helper
    # Progress counts what every process has read: it never runs backwards.
    assert reported and [d for d, _ in reported] == sorted(d for d, _ in reported)


def test_what_officers_write_while_two_processes_fill_is_in_the_tables_swapped_in(
    registry: Registry,
    database_url: str,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_sites(registry)
    reception = Reception(registry, random.Random(23), "W")
    for _ in reception.run(rounds=3, batch_size=60):
        pass
    # Officers keep working: during the fill (each share reads to the head it sees) and
    # after the last share's last batch, which only the swap's catch-up can apply, to the
    # models the helper filled as to the others.
    officers = reception.run(rounds=3, batch_size=40)
    fill_shared = rebuilding.fill_shared

    def and_then_more(*args: Any, **kwargs: Any) -> int:
        events = fill_shared(*args, **kwargs)
        after_fill.extend(islice(officers, 6))
        return events

    after_fill: list[CommandResult] = []
    with (
        monkeypatch.context() as patch,
        Projector(
            database_url, batch_size=200, rebuild_processes=2, process_setup=SETUP
        ) as projector,
    ):
        patch.setattr(rebuilding, "fill_shared", and_then_more)
        summary = projector.rebuild(progress=write_during(officers, per_batch=4))
    assert len(after_fill) == 6
    assert summary.head == head(conn) and set(checkpoints(conn).values()) == {head(conn)}
    rebuilt = snapshot(conn)
    with Projector(database_url) as projector:
        projector.rebuild()
    assert_same_tables(snapshot(conn), rebuilt)


def test_a_helper_process_that_fails_fails_the_rebuild_and_nothing_is_swapped(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    for _ in Reception(registry, random.Random(22), "F").run(rounds=1, batch_size=40):
        pass
    with Projector(database_url, [Roster]) as projector:
        projector.catch_up()
    before = snapshot(conn, [Roster])
    with (
        Projector(
            database_url, [Roster, BrokenFold], rebuild_processes=2, process_setup=SETUP
        ) as projector,
        pytest.raises(RuntimeError, match="this fold cannot start"),
    ):
        projector.rebuild()
    assert_same_tables(snapshot(conn, [Roster]), before)
    swapped = conn.execute(
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'read_broken_fold'"
    ).fetchone()
    assert swapped == (0,)


def test_a_helper_stops_midway_when_the_process_that_started_it_is_killed(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    # Left running, a helper would go on writing into fresh schemas that the next rebuild
    # drops and makes anew (tests/reliability/test_crash_recovery.py kills a rebuild).
    last = build_log(registry, truckloads=8)
    rebuilding_process = subprocess.Popen(
        [sys.executable, "-m", "tests.projections.projector_process", database_url,
         "--batch-size", "20", "--rebuild-processes", "2"],
        cwd=ROOT, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        # The ledger is the helper's (the greedy split by cost), filled batch by batch.
        deadline = time.monotonic() + 60
        while not 0 < checkpoint(conn, "read_ledger__rebuild") < last:
            assert rebuilding_process.poll() is None, rebuilding_process.stderr
            assert time.monotonic() < deadline, "the helper never filled a batch"
            time.sleep(0.005)
    finally:
        rebuilding_process.kill()
        rebuilding_process.wait()
    deadline = time.monotonic() + 10
    while sessions(conn):
        assert time.monotonic() < deadline, f"sessions left behind: {sessions(conn)}"
        time.sleep(0.01)
    # Stopped midway, not finished: nothing more was written after the kill.
    assert 0 < checkpoint(conn, "read_ledger__rebuild") < last


def checkpoint(conn: psycopg.Connection[Any], schema: str) -> int:
    exists = conn.execute("SELECT to_regclass(%s)", (f"{schema}.tracking",)).fetchone()
    if exists is None or exists[0] is None:
        return 0
    row = conn.execute(
        sql.SQL("SELECT notification_id FROM {}").format(sql.Identifier(schema, "tracking"))
    ).fetchone()
    return int(row[0]) if row else 0


def sessions(conn: psycopg.Connection[Any]) -> list[int]:
    """The backends of the killed rebuild and of its helper still connected."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION,)
    ).fetchall()
    return [pid for (pid,) in rows]
