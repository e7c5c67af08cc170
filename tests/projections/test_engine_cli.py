"""``campledger status`` and ``campledger rebuild`` through Typer, on a real database."""

from __future__ import annotations

import json
import random
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from campledger.projections.roster import Roster
from campledger.projections.stays import Stays
from tests.projections.engine_support import (
    Reception,
    as_url,
    assert_same_tables,
    checkpoints,
    conn,
    head,
    open_sites,
    projected_from_zero,
    registry,
    snapshot,
)

__all__ = ["conn", "registry"]

runner = CliRunner()
NAMES = [m.name for m in READ_MODELS]


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url(database_url))
    monkeypatch.setenv("COLUMNS", "160")  # rich wraps tables at the terminal's width


@pytest.fixture
def reception(registry: Registry) -> Reception:
    open_sites(registry)
    return Reception(registry, random.Random(11), "C")


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_status_before_anything_is_projected_says_not_set_up(
    cli_env: None, reception: Reception, conn: psycopg.Connection[Any]
) -> None:
    for _ in reception.run(rounds=1, batch_size=20):
        pass
    report = json.loads(invoke("status", "--json").output)
    assert report["head"] == head(conn) > 20
    assert [m["name"] for m in report["models"]] == NAMES
    assert {(m["set_up"], m["checkpoint"], m["lag"]) for m in report["models"]} == {
        (False, None, None)
    }
    assert invoke("status").output.count("not set up") == len(NAMES)


def test_status_prints_head_and_each_read_models_checkpoint_and_lag(
    cli_env: None, reception: Reception, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    for _ in reception.run(rounds=1, batch_size=30):
        pass
    with Projector(database_url) as projector:
        projected = projector.catch_up()
    for _ in reception.run(rounds=2, batch_size=600):
        pass
    now = head(conn)
    assert now - projected > 1_000

    report = json.loads(invoke("status", "--json").output)
    assert report["head"] == now
    assert report["models"] == [
        {
            "name": name,
            "checkpoint": projected,
            "lag": now - projected,
            "set_up": True,
            "quarantined": [],
        }
        for name in NAMES
    ]
    assert (report["status"], report["projector_running"]) == ("ok", False)
    table = invoke("status").output
    assert f"position {now:,}" in table
    for name in NAMES:
        (line,) = [row for row in table.splitlines() if f" {name} " in row]
        assert f"{projected:,}" in line and f"{now - projected:,}" in line, line


def test_rebuild_of_one_read_model_leaves_the_others_alone(
    cli_env: None, reception: Reception, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    for _ in reception.run(rounds=2, batch_size=50):
        pass
    with Projector(database_url) as projector:
        projected = projector.catch_up()
    for _ in reception.run(rounds=1, batch_size=50):
        pass
    now = head(conn)
    # Damage both models: only the rebuilt one comes back whole.
    conn.execute("UPDATE read_roster.roster SET status = 'damaged'")
    conn.execute("UPDATE read_stays.stays SET status = 'damaged'")

    output = invoke("rebuild", "roster").output
    assert f"rebuilt up to position {now:,}" in output
    assert "roster" in output and "stays" not in output
    assert checkpoints(conn) == {name: now if name == "roster" else projected for name in NAMES}
    statuses = conn.execute("SELECT DISTINCT status FROM read_roster.roster").fetchall()
    assert "damaged" not in {s for (s,) in statuses}
    assert conn.execute("SELECT DISTINCT status FROM read_stays.stays").fetchall() == [("damaged",)]
    rebuilt_roster = snapshot(conn, [Roster])
    (roster_line,) = [row for row in output.splitlines() if "  roster " in row]
    assert roster_line.split()[-2] == f"{len(rebuilt_roster['roster']['roster']):,}"

    # Then a full rebuild repairs stays too: no damaged row is left, and it holds exactly
    # what the whole log applied to empty tables gives (not the damage caught up on).
    with Projector(database_url) as projector:
        projector.rebuild()
    assert checkpoints(conn) == dict.fromkeys(NAMES, now)
    assert snapshot(conn, [Roster]) == rebuilt_roster
    statuses = conn.execute("SELECT DISTINCT status FROM read_stays.stays").fetchall()
    assert statuses and "damaged" not in {s for (s,) in statuses}
    assert_same_tables(snapshot(conn, [Stays]), projected_from_zero(database_url, [Stays]))


def test_rebuild_of_an_unknown_read_model_changes_nothing(
    cli_env: None, reception: Reception, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    for _ in reception.run(rounds=1, batch_size=10):
        pass
    with Projector(database_url) as projector:
        projected = projector.catch_up()
    before = snapshot(conn)
    result = runner.invoke(app, ["rebuild", "roster", "rosters"])
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "unknown read models" in result.output and "rosters" in result.output
    assert set(checkpoints(conn).values()) == {projected}
    assert snapshot(conn) == before
