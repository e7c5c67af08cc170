"""``campledger token``: create (printed once), list and revoke API tokens."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from campledger.api.cli.shared import AsJson, ExitCode, fail, load_settings
from campledger.api.composition import connection
from campledger.api.services.auth import (
    Role,
    TokenError,
    create_token,
    list_tokens,
    revoke_token,
)

console = Console()
token_app = typer.Typer(help="API tokens: create, list, revoke.")


@token_app.command("create")
def create(
    role: Annotated[Role, typer.Option(help="What the token may do.")],
    name: Annotated[str, typer.Option(help="Who holds it; recorded as the actor of events.")],
    site: Annotated[
        list[str] | None, typer.Option(help="Limit the token to this site (repeatable).")
    ] = None,
) -> None:
    """Create a token and print it once; only its hash is stored."""
    with connection(load_settings()) as conn:
        try:
            token = create_token(conn, name=name, role=role.value, sites=site or ())
        except TokenError as error:
            fail(str(error), ExitCode.FAILED)
    # Plain print: the token must be copyable, without rich's wrapping or markup.
    print(token)


@token_app.command("list")
def list_(
    as_json: AsJson = False,
) -> None:
    """List tokens (never their secrets)."""
    with connection(load_settings()) as conn:
        tokens = list_tokens(conn)
    if as_json:
        # Named fields only, never the whole record: nothing added to a token later (a
        # hash, a secret) can reach the output by default.
        listed = [
            {
                "id": t.token_id, "name": t.name, "role": t.role, "sites": list(t.sites),
                "created_at": t.created_at.isoformat(),
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in tokens
        ]  # fmt: skip
        typer.echo(json.dumps(listed, indent=2))
        return
    table = Table("id", "name", "role", "sites", "created", "revoked")
    for t in tokens:
        table.add_row(
            t.token_id, t.name, t.role, ", ".join(t.sites) or "all",
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )  # fmt: skip
    console.print(table)


@token_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="Token name or id.")]) -> None:
    """Revoke a token: it stops working at once."""
    with connection(load_settings()) as conn:
        if not revoke_token(conn, name):
            fail(f"no live token named {name!r}", ExitCode.NOT_FOUND)
    console.print(f"revoked {name}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
