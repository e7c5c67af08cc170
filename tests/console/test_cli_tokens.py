"""``campledger token`` end to end through Typer, on a real database: a token never takes
the name of a person's account, nor an account a token's, since both would be recorded as
the same actor on events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.api.services.accounts import create_account, list_accounts
from campledger.api.services.auth import authenticate, list_tokens
from tests.console import test_cli_users
from tests.console.conftest import POLICY

runner = CliRunner()
# The same fixture: a fresh database that the command line is pointed at.
conn = test_cli_users.conn


def test_create_prints_the_token_once_and_list_never_shows_it(conn: Any) -> None:
    created = runner.invoke(app, ["token", "create", "--role", "registrar", "--name", "tine-1"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    principal = authenticate(conn, token)
    assert principal is not None and principal.actor == "tine-1"
    listed = runner.invoke(app, ["token", "list"])
    assert "tine-1" in listed.output and token.split("_", 2)[2] not in listed.output


@pytest.mark.parametrize("same", ["Amina Haroun", "amina  HAROUN", "Ａｍｉｎａ Haroun"])
def test_a_token_is_refused_the_name_of_an_account_and_nothing_is_written(
    conn: Any, same: str
) -> None:
    create_account(
        conn, name="Amina Haroun", role="registrar", now=datetime.now(UTC), policy=POLICY
    )
    refused = runner.invoke(app, ["token", "create", "--role", "admin", "--name", same])
    assert refused.exit_code == ExitCode.FAILED and "Traceback" not in refused.output
    assert "already named" in refused.output and "audit trail" in refused.output
    assert list_tokens(conn) == []


def test_an_account_is_refused_the_name_of_a_token_and_nothing_is_written(conn: Any) -> None:
    made = runner.invoke(app, ["token", "create", "--role", "registrar", "--name", "Field App"])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(app, ["user", "create", "--name", "field  app", "--role", "registrar"])
    assert (
        refused.exit_code == ExitCode.FAILED and "an API token is already named" in refused.output
    )
    assert list_accounts(conn) == []
