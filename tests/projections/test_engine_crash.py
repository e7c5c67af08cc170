"""A projector killed with SIGKILL in the middle of a batch loses that batch and nothing
else: restarted, it applies every event exactly once and ends where a rebuild ends.

"In the middle of a batch" is proved, not hoped for: the kill is sent while the projector
has a transaction open with writes in it (``pg_stat_activity.backend_xid``), and that
transaction is then found rolled back (``pg_xact_status``)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from campledger.domain.service.registry import Registry
from campledger.projections.audit_log import AuditLog
from campledger.projections.engine import Projector
from campledger.projections.ledger import Ledger
from tests.projections.engine_support import (
    Reception,
    as_url,
    assert_same_tables,
    checkpoints,
    conn,
    fates,
    head,
    open_sites,
    open_writes,
    registry,
    snapshot,
    wait_disconnected,
)
from tests.projections.projector_process import APPLICATION

__all__ = ["conn", "registry"]

ROOT = Path(__file__).resolve().parents[2]
CAMPLEDGER = Path(sys.executable).with_name("campledger")


def build_log(registry: Registry, truckloads: int) -> int:
    """Some thousands of events: truckloads of 400 and the day's small commands."""
    open_sites(registry)
    reception = Reception(registry, random.Random(7), "K")
    last = 0
    for result in reception.run(rounds=truckloads, batch_size=400):
        last = result.position
    return last


def kill_mid_batch(
    start: Callable[[], subprocess.Popen[bytes]],
    conn: psycopg.Connection[Any],
    timeout: float = 60,
    attempts: int = 5,
) -> dict[str, int]:
    """SIGKILL the projector once some batches have committed and the next one has written
    (and not committed); prove the kill landed inside it: that transaction rolled back.
    A kill that lands just after a commit proves nothing: start again, a few times."""
    for _attempt in range(attempts):
        process = start()
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                _out, err = process.communicate()
                pytest.fail(f"the projector ended before it was killed: {err.decode()[-2000:]}")
            assert time.monotonic() < deadline, "the projector never got going"
            in_flight = open_writes(conn, APPLICATION) if min(checkpoints(conn).values()) else []
            if in_flight:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                break
            time.sleep(0.002)
        assert process.returncode == -signal.SIGKILL
        # The server rolls the batch back once it notices its client is gone.
        wait_disconnected(conn, APPLICATION, timeout)
        if "aborted" in fates(conn, in_flight):
            return checkpoints(conn)
    pytest.fail(f"no kill of {attempts} landed inside a batch")


def assert_nothing_past_checkpoints(conn: psycopg.Connection[Any], at: dict[str, int]) -> None:
    """The read models hold exactly the events up to their checkpoints: no half batch."""
    for model, table in ((AuditLog, "entries"), (Ledger, "links")):
        row = conn.execute(
            sql.SQL("SELECT count(*), COALESCE(max(position), 0) FROM {}").format(
                sql.Identifier(model.live_schema(), table)
            )
        ).fetchone()
        assert row is not None
        assert (row[0], row[1]) == (at[model.name], at[model.name]), model.name


def assert_equal_to_rebuild(database_url: str, conn: psycopg.Connection[Any]) -> None:
    live = snapshot(conn)
    with Projector(database_url) as projector:
        projector.rebuild()
    assert_same_tables(live, snapshot(conn))


def test_projector_killed_mid_batch_catches_up_to_what_a_rebuild_gives(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    last = build_log(registry, truckloads=5)
    script = [sys.executable, "-m", "tests.projections.projector_process", database_url]
    # Batches of 25: ~170 transactions, so the kill lands inside one, not between runs.
    at_kill = kill_mid_batch(
        lambda: subprocess.Popen([*script, "--batch-size", "25"], cwd=ROOT, stderr=subprocess.PIPE),
        conn,
    )
    assert len(set(at_kill.values())) == 1, at_kill  # one transaction moves them all
    assert 0 < min(at_kill.values()) < last
    assert_nothing_past_checkpoints(conn, at_kill)

    restarted = subprocess.run([*script, "--batch-size", "500"], cwd=ROOT, capture_output=True)
    assert restarted.returncode == 0, restarted.stderr.decode()[-2000:]
    assert set(checkpoints(conn).values()) == {head(conn)} == {last}
    assert_nothing_past_checkpoints(conn, checkpoints(conn))
    assert_equal_to_rebuild(database_url, conn)


def test_campledger_project_killed_mid_batch_resumes_on_restart(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    # More than one batch of the command's 2,000 events, so the kill can land in the second.
    last = build_log(registry, truckloads=6)
    env = {
        **os.environ,
        "CAMPLEDGER_DATABASE_URL": as_url(database_url, application_name=APPLICATION),
        "CAMPLEDGER_LOG_LEVEL": "WARNING",
    }
    command = [str(CAMPLEDGER), "project"]
    at_kill = kill_mid_batch(
        lambda: subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE), conn
    )
    assert 0 < min(at_kill.values()) < last
    assert_nothing_past_checkpoints(conn, at_kill)

    restarted = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while set(checkpoints(conn).values()) != {last}:
            assert restarted.poll() is None, restarted.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, checkpoints(conn)
            time.sleep(0.05)
    finally:
        restarted.send_signal(signal.SIGTERM)
        _out, err = restarted.communicate(timeout=30)
    assert restarted.returncode == 0, err.decode()[-2000:]
    assert_nothing_past_checkpoints(conn, checkpoints(conn))
    assert_equal_to_rebuild(database_url, conn)
