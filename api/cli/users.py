"""``campledger user``: accounts for people who sign in to the web console.

``create`` and ``reset`` print a one-time password once; the person must replace it at
first sign-in. ``disable`` and ``reset`` end the account's sessions at once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from campledger.api.cli.shared import AsJson, ExitCode, fail, load_settings
from campledger.api.composition import connection
from campledger.api.services.accounts import (
    LOCALES,
    AccountError,
    AccountPolicy,
    Issued,
    create_account,
    disable_account,
    enable_account,
    list_accounts,
    reset_account,
)
from campledger.api.services.auth import Role

console = Console()
user_app = typer.Typer(help="Accounts for people: create, list, disable, enable, reset.")


@user_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who signs in; recorded as the actor of events.")],
    role: Annotated[Role, typer.Option(help="What the account may do (as for tokens).")],
    site: Annotated[
        list[str] | None, typer.Option(help="Limit the account to this site (repeatable).")
    ] = None,
    locale: Annotated[
        str, typer.Option(help=f"The console's language for it: {', '.join(LOCALES)}.")
    ] = "en",
) -> None:
    """Create an account and print its one-time password once."""
    settings = load_settings()
    with connection(settings) as conn:
        try:
            issued = create_account(
                conn, name=name, role=role, sites=site or (), locale=locale,
                now=datetime.now(UTC), policy=AccountPolicy.from_settings(settings),
            )  # fmt: skip
        except AccountError as error:
            _refuse(error)
    _print_password(issued, "created")


@user_app.command("list")
def list_(
    as_json: AsJson = False,
) -> None:
    """List accounts and their state (never a password or its hash)."""
    with connection(load_settings()) as conn:
        accounts = list_accounts(conn)
    now = datetime.now(UTC)
    if as_json:
        # Named fields only, never the whole record: a field added to an account later
        # (a password's hash, a sign-in secret) reaches no output by default.
        listed = [
            {
                "name": a.name, "role": a.role.value, "sites": list(a.sites),
                "language": a.locale, "state": a.status_at(now),
                "created_at": a.created_at.isoformat(),
            }
            for a in accounts
        ]  # fmt: skip
        typer.echo(json.dumps(listed, indent=2))
        return
    table = Table("name", "role", "sites", "language", "state", "created")
    for a in accounts:
        table.add_row(
            a.name, a.role.value, ", ".join(a.sites) or "all", a.locale, a.status_at(now),
            f"{a.created_at:%Y-%m-%d %H:%M}",
        )  # fmt: skip
    console.print(table)


@user_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="The account's name.")]) -> None:
    """Disable an account: it cannot sign in, and its sessions end now."""
    with connection(load_settings()) as conn:
        try:
            account = disable_account(conn, name, now=datetime.now(UTC))
        except AccountError as error:
            _refuse(error)
    console.print(f"disabled {account.name}; its sessions have ended")


@user_app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="The account's name.")]) -> None:
    """Let a disabled account sign in again."""
    with connection(load_settings()) as conn:
        try:
            account = enable_account(conn, name)
        except AccountError as error:
            _refuse(error)
    console.print(f"enabled {account.name}")


@user_app.command("reset")
def reset(name: Annotated[str, typer.Argument(help="The account's name.")]) -> None:
    """Issue a new one-time password: unlocks the account and ends its sessions."""
    settings = load_settings()
    with connection(settings) as conn:
        try:
            issued = reset_account(
                conn, name, now=datetime.now(UTC), policy=AccountPolicy.from_settings(settings)
            )
        except AccountError as error:
            _refuse(error)
    _print_password(issued, "reset")


def _print_password(issued: Issued, done: str) -> None:
    expires = issued.account.password_expires_at
    until = f" until {expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if expires else ""
    console.print(
        f"{done} {issued.account.name} ({issued.account.role.value}); one-time password, "
        f"valid{until}, to be changed at first sign-in:",
        markup=False,
        highlight=False,
    )
    # Plain print: the password must be copyable, without rich's wrapping or markup.
    print(issued.one_time_password)


def _refuse(error: AccountError) -> NoReturn:
    found = error.code != "no-account"
    fail(str(error), ExitCode.FAILED if found else ExitCode.NOT_FOUND)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
