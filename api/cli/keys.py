"""``campledger keys``: the master key that wraps every person's key
(docs/data-protection.md).

``keys new FILE`` makes a master key file; ``keys rotate --new-key-file FILE`` re-wraps
every person key under it, in one transaction, without touching an event. Neither prints
a key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from campledger.api.cli.shared import ExitCode, fail, load_settings
from campledger.api.composition import open_backend
from campledger.api.database.keystore import (
    generate_master_key_file,
    read_master_key,
    rotate_master_key,
)
from campledger.domain.persistence.personal_data import KeyStoreError

keys_app = typer.Typer(help="The master key that wraps each person's key.")


@keys_app.command("new")
def new(
    file: Annotated[Path, typer.Argument(help="Where to write the new master key (0600).")],
) -> None:
    """Write a new random master key to FILE, readable by its owner only. Never overwrites:
    exits 1 if FILE exists. Keep it apart from the database and its backups."""
    try:
        generate_master_key_file(file)
    except FileExistsError:
        fail(f"{file} exists: a master key is never overwritten", ExitCode.FAILED)
    typer.echo(f"master key written to {file}")


@keys_app.command("rotate")
def rotate(
    new_key_file: Annotated[
        Path,
        typer.Option("--new-key-file", help="The new master key (from `campledger keys new`)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the count as JSON.")] = False,
) -> None:
    """Re-wrap every person key under the new master key, all or nothing.

    Stop the server and the projector first; once this succeeds, point
    CAMPLEDGER_MASTER_KEY_FILE at the new file and start again (the old key no longer
    opens the key store). Events are not touched. Exits 0 when rotated, 78 when either key
    is unusable or the current one does not open the key store, 75 when the database
    failed (nothing changed).
    """
    settings = load_settings()
    try:
        new_key = read_master_key(new_key_file)
        with open_backend(settings) as backend:
            old_key = read_master_key(backend.master_key_file)
            if new_key_file.resolve() == backend.master_key_file.resolve():
                fail("the new master key file is the current one", ExitCode.USAGE)
            with psycopg.connect(backend.conninfo) as conn:
                count = rotate_master_key(conn, old_key, new_key)
    except KeyStoreError as error:
        fail(f"the master key was not rotated: {error}", ExitCode.CONFIG)
    except psycopg.Error as error:
        fail(
            f"the master key was not rotated ({type(error).__name__}): nothing changed",
            ExitCode.TEMPORARY_FAILURE,
        )
    if as_json:
        print(json.dumps({"person_keys_rewrapped": count}))
        return
    typer.echo(
        f"{count:,} person keys re-wrapped under the new master key; "
        "set CAMPLEDGER_MASTER_KEY_FILE to it before starting again"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
