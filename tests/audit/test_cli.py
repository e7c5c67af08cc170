"""The auditors' commands end to end through Typer, on a real database."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.ledger import Ledger, current_digest
from campledger.projections.roster import Roster
from tests.projections.lifecycle import NOW, full_lifecycle

runner = CliRunner()


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    params = conninfo_to_dict(database_url)
    host = str(params.get("host", ""))
    if host.startswith("/"):  # the embedded server's socket directory
        as_url = f"postgresql://{params.get('user', 'postgres')}@/{params['dbname']}?host={host}"
    else:
        as_url = (
            f"postgresql://{params.get('user', 'postgres')}@{host}:{params.get('port', 5432)}"
            f"/{params['dbname']}"
        )
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url)
    return database_url


@pytest.fixture
def filled(url: str, library_env: dict[str, str]) -> Any:
    registry = Registry(env=library_env, clock=lambda: NOW)
    try:
        lifecycle = full_lifecycle(registry)
    finally:
        registry.close()
    with Projector(url, [Ledger]) as projector:
        projector.catch_up()
    return lifecycle


def test_verify_reports_an_intact_log_and_proves_a_kept_digest(url: str, filled: Any) -> None:
    result = runner.invoke(app, ["verify", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["ok"] and body["broken_at"] is None
    with psycopg.connect(url) as conn:
        kept = current_digest(conn)
    assert kept is not None and body["digest"] == kept.hex
    proof = runner.invoke(app, ["verify", "--digest", kept.hex, "--position", str(kept.position)])
    assert proof.exit_code == 0, proof.output
    assert "matches" in proof.stdout


def test_verify_exits_1_and_names_the_altered_position(url: str, filled: Any) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE registry_events SET state = state || ' '::bytea WHERE notification_id = "
            "(SELECT min(notification_id) + 4 FROM registry_events)"
        )
        row = conn.execute("SELECT min(notification_id) + 4 FROM registry_events").fetchone()
    assert row is not None
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 1
    assert f"{row[0]:,}" in result.stdout


def test_history_by_registration_number_with_both_time_axes(url: str, filled: Any) -> None:
    result = runner.invoke(app, ["history", "R-002", "--json", "--duplicates"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["events"][-1]["action"] == "duplicate_merged"
    assert str(filled.duplicate) in body["duplicates"]
    table = runner.invoke(app, ["history", str(filled.father), "--as-of", "2025-03-01T12:30Z"])
    assert table.exit_code == 0, table.output
    assert "in_transit" in table.stdout
    naive = runner.invoke(app, ["history", "R-002", "--known-at", "2025-03-01T12:30"])
    assert naive.exit_code == 2


def test_an_erased_persons_history_says_so_and_marks_each_personal_value(
    url: str, filled: Any, library_env: dict[str, str]
) -> None:
    registry = Registry(env=library_env)
    try:
        registry.erase_personal_data(
            person_id=filled.child, basis="subject_request", order_reference="", actor="dpo"
        )
    finally:
        registry.close()
    result = runner.invoke(
        app, ["history", str(filled.child), "--personal", "--actor", "auditor-1"]
    )
    assert result.exit_code == 0, result.output
    assert "personal data erased" in result.stdout and "Amina" not in result.stdout
    shown = json.loads(
        runner.invoke(
            app, ["history", str(filled.child), "--personal", "--actor", "auditor-1", "--json"]
        ).stdout
    )
    assert shown["erased"] is True and shown["events"][0]["state"]["given_name"] == "[erased]"
    # The number's claim went with the erasure; the roster still finds who had it.
    assert runner.invoke(app, ["history", "R-001"]).exit_code == 3
    with Projector(url, [Roster]) as projector:
        projector.catch_up()
    by_number = runner.invoke(app, ["history", "R-001", "--json"])
    assert by_number.exit_code == 0, by_number.output
    assert json.loads(by_number.stdout)["person_id"] == str(filled.child)


def test_personal_history_needs_an_actor_and_is_recorded(url: str, filled: Any) -> None:
    assert runner.invoke(app, ["history", "R-001", "--personal"]).exit_code == 2
    result = runner.invoke(app, ["history", "R-001", "--personal", "--actor", "auditor-1"])
    assert result.exit_code == 0, result.output
    assert "Amina" in result.stdout
    trail = runner.invoke(app, ["access-trail", "--actor", "auditor-1", "--json"])
    entries = json.loads(trail.stdout)
    assert [e["person_id"] for e in entries] == [str(filled.child)]
