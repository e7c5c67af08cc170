"""The command line's conventions: a refusal says why on stderr and leaves stdout empty,
so that a script reading a command's results never reads an error as one; and its exit
status says what kind of refusal it was, never Click's 2 for a usage error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
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
    failed, not_found, unavailable = ExitCode.FAILED, ExitCode.NOT_FOUND, ExitCode.UNAVAILABLE
    refusals = {
        ("token", "create", "--role", "admin", "--name", "AMINA"): ("already named", failed),
        ("token", "create", "--role", "admin", "--name", "field-app"): ("already exists", failed),
        ("token", "revoke", "nobody"): ("no live token named 'nobody'", not_found),
        ("user", "create", "--name", "Field-App", "--role", "screener"): ("already named", failed),
        ("user", "create", "--name", "x", "--role", "screener", "--locale", "de"): (
            "not 'de'",
            failed,
        ),
        ("user", "disable", "nobody"): ("no account named 'nobody'", not_found),
        ("user", "enable", "nobody"): ("no account named 'nobody'", not_found),
        ("user", "reset", "nobody"): ("no account named 'nobody'", not_found),
        ("rebuild", "rosters"): ("unknown read models: rosters", not_found),
        ("quarantine", "retry", "rosters"): ("unknown read models: rosters", not_found),
        ("history", "R-404"): ("no person with id or registration number 'R-404'", not_found),
        ("import", "arrivals", str(arrivals), "--site", "NOPE"): (
            "no site with code NOPE",
            not_found,
        ),
        ("export", "occupancy"): ("the read models are not built yet", unavailable),
        ("verify",): ("no ledger yet", unavailable),
    }
    for args, (why, code) in refusals.items():
        result = invoke(*args)
        assert result.exit_code == code, (args, result.output)
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


def test_exit_codes_are_distinct_and_listed_in_the_help_and_the_readme() -> None:
    codes = [code.value for code in ExitCode]
    assert len(set(codes)) == len(codes) and ExitCode.USAGE == 2 and ExitCode.CONFIG == 78
    shown = invoke("--help")
    assert shown.exit_code == 0
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Command line") :]
    section = section[: section.index("\n## ")]
    for code in ExitCode:
        assert f"{code.value:>3}  {code.meaning[:30]}" in shown.stdout, code
        assert f"| `{code.value}` |" in section, code


def test_a_usage_error_is_clicks_2_and_no_command_uses_2_for_its_own_refusals() -> None:
    unknown = invoke("token", "list", "--colour")
    assert unknown.exit_code == ExitCode.USAGE and "No such option" in unknown.stderr


def test_token_and_user_lists_print_json_without_secrets(cli_db: str) -> None:
    made = invoke("user", "create", "--name", "Amina", "--role", "screener", "--site", "TIN-RC")
    password = made.stdout.strip().splitlines()[-1]
    token = invoke("token", "create", "--role", "admin", "--name", "field-app").stdout.strip()
    assert invoke("token", "create", "--role", "registrar", "--name", "old").exit_code == 0
    assert invoke("token", "revoke", "old").exit_code == 0
    tokens = invoke("token", "list", "--json")
    assert tokens.exit_code == 0 and tokens.stderr == ""
    listed = json.loads(tokens.stdout)
    assert [(t["name"], t["role"], t["sites"]) for t in listed] == [
        ("field-app", "admin", []),
        ("old", "registrar", []),
    ]
    assert listed[0]["revoked_at"] is None and listed[1]["revoked_at"] is not None
    assert token.split("_", 2)[1] == listed[0]["id"]
    assert token.split("_", 2)[2] not in tokens.stdout
    users = invoke("user", "list", "--json")
    assert users.exit_code == 0 and users.stderr == ""
    assert json.loads(users.stdout) == [
        {
            "name": "Amina",
            "role": "screener",
            "sites": ["TIN-RC"],
            "language": "en",
            "state": json.loads(users.stdout)[0]["state"],
            "created_at": json.loads(users.stdout)[0]["created_at"],
        }
    ]
    assert password not in users.stdout and "hash" not in users.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["export", "flows", "--start", "2025-13-01", "--end", "2025-01-02"], "--start"),
        (["export", "flows", "--start", "2025-01-01", "--end", "1 March"], "--end"),
        (["audit", "--from", "yesterday"], "--from"),
        (["audit", "--occurred-to", "2025-03-01T10:00"], "give a time zone"),
        (["access-trail", "--to", "2025-02-30T00:00Z"], "--to"),
        (["history", "R-001", "--as-of", "now"], "--as-of"),
        (["history", "R-001", "--known-at", "2025-03-01 10:00"], "give a time zone"),
    ],
)
def test_a_malformed_date_is_a_usage_error_naming_the_option(args: list[str], says: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE and result.stdout == ""
    assert "Invalid value" in result.stderr and says in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_prints_its_sites_table_on_stdout_and_its_notices_on_stderr(cli_db: str) -> None:
    result = invoke("demo", "--trucks", "1", "--truck-size", "10")
    assert result.exit_code == 0, result.output
    assert "sites" in result.stdout and "head count" in result.stdout
    assert "loaded" not in result.stdout and "projecting" not in result.stdout
    assert "loaded " in result.stderr and " persons in " in result.stderr, result.stderr
    again = invoke("demo", "--trucks", "1", "--truck-size", "10")
    assert "already loaded" in again.stderr and "already loaded" not in again.stdout
