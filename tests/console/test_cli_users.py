"""``campledger user`` end to end through Typer, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.api.services.sign_in import Outcome, sign_in
from tests.console.conftest import POLICY
from tests.reliability.support import as_url

runner = CliRunner()


@pytest.fixture
def conn(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url(database_url))
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def run(*args: str) -> str:
    result = runner.invoke(app, ["user", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_create_prints_a_one_time_password_once_that_signs_in(conn: Any) -> None:
    shown = run("create", "--name", "Amina Haroun", "--role", "registrar", "--site", "TIN-RC")
    password = shown.strip().splitlines()[-1]
    assert "to be changed at first sign-in" in shown
    signed = sign_in(conn, "amina haroun", password, now=datetime.now(UTC), policy=POLICY)
    assert signed.outcome is Outcome.SIGNED_IN and signed.account is not None
    assert signed.account.must_change_password and signed.account.sites == ("TIN-RC",)
    listed = run("list")
    assert "Amina Haroun" in listed and "TIN-RC" in listed and password not in listed


def test_disable_enable_and_reset(conn: Any) -> None:
    first = run("create", "--name", "amina", "--role", "screener").strip().splitlines()[-1]
    assert "disabled amina" in run("disable", "amina")
    assert "disabled" in run("list")
    run("enable", "amina")
    second = run("reset", "amina").strip().splitlines()[-1]
    assert second != first
    now = datetime.now(UTC)
    assert sign_in(conn, "amina", first, now=now, policy=POLICY).outcome is Outcome.REFUSED
    assert sign_in(conn, "amina", second, now=now, policy=POLICY).outcome is Outcome.SIGNED_IN


def test_refusals_exit_with_a_readable_message(conn: Any) -> None:
    run("create", "--name", "amina", "--role", "screener")
    for args, code in (
        (["create", "--name", "AMINA", "--role", "screener"], ExitCode.FAILED),
        (["create", "--name", "x", "--role", "screener", "--locale", "de"], ExitCode.FAILED),
        (["disable", "nobody"], ExitCode.NOT_FOUND),
        (["reset", "nobody"], ExitCode.NOT_FOUND),
    ):
        result = runner.invoke(app, ["user", *args])
        assert result.exit_code == code and "Traceback" not in result.output, args
