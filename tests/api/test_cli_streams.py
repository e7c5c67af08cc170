"""The command line's two streams: a refusal says why on stderr and leaves stdout empty,
so that a script reading a command's results never reads an error as one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from tests.reliability.support import as_url

runner = CliRunner()


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url(database_url))
    monkeypatch.setenv("COLUMNS", "160")
    return database_url


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_every_refusal_goes_to_stderr_with_its_reason_and_stdout_stays_empty(
    cli_db: str, tmp_path: Path
) -> None:
    assert invoke("user", "create", "--name", "amina", "--role", "screener").exit_code == 0
    assert invoke("token", "create", "--role", "admin", "--name", "field-app").exit_code == 0
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text(invoke("import", "template").stdout, encoding="utf-8")
    refusals = {
        ("token", "create", "--role", "admin", "--name", "AMINA"): "already named",
        ("token", "create", "--role", "admin", "--name", "field-app"): "already exists",
        ("token", "revoke", "nobody"): "no live token named 'nobody'",
        ("user", "create", "--name", "Field-App", "--role", "screener"): "already named",
        ("user", "create", "--name", "x", "--role", "screener", "--locale", "de"): "not 'de'",
        ("user", "disable", "nobody"): "no account named 'nobody'",
        ("user", "enable", "nobody"): "no account named 'nobody'",
        ("user", "reset", "nobody"): "no account named 'nobody'",
        ("rebuild", "rosters"): "unknown read models: rosters",
        ("quarantine", "retry", "rosters"): "unknown read models: rosters",
        ("history", "R-404"): "no person with id or registration number 'R-404'",
        ("import", "arrivals", str(arrivals), "--site", "NOPE"): "no site with code NOPE",
        ("export", "occupancy"): "the read models are not built yet",
        ("verify",): "no ledger yet",
    }
    for args, why in refusals.items():
        result = invoke(*args)
        assert result.exit_code != 0, args
        assert result.stdout == "", (args, result.stdout)
        assert why in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("campledger: "), (args, result.stderr)
    with psycopg.connect(cli_db) as conn:
        names = conn.execute("SELECT name FROM api_tokens").fetchall()
    assert names == [("field-app",)]


def test_results_go_to_stdout_and_nothing_to_stderr(cli_db: str) -> None:
    created = invoke("token", "create", "--role", "admin", "--name", "field-app")
    assert created.exit_code == 0 and created.stdout.startswith("cl_")
    assert created.stderr == ""
    listed = invoke("token", "list")
    assert "field-app" in listed.stdout and listed.stderr == ""
