"""``campledger subject-export PERSON``: everything held about one person, as JSON, for
their right of access (docs/data-protection.md), as the data protection officer's
endpoint answers it."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import psycopg
import typer

from campledger.api.cli.shared import (
    ExitCode,
    domain_exit_code,
    fail,
    load_settings,
    person_id_of,
)
from campledger.api.composition import Backend, open_backend
from campledger.api.database.access_trail import create_access_trail
from campledger.api.services.subject_access import (
    CLI_PURPOSE,
    export_subject,
)
from campledger.domain.model import errors

# Owner read and write only: the file holds the person's personal data.
FILE_MODE = 0o600


def subject_export(
    person: Annotated[str, typer.Argument(help="Person id (UUID) or registration number.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the JSON to this file (made readable by its owner only; replaced if "
            "it exists) instead of stdout.",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(help="Recorded on the access trail as who exported (default: cli:<login>)."),
    ] = None,
) -> None:
    """Export everything held about one person as JSON: current state and history with
    personal data, household, likely duplicates, the audit log's and the access trail's
    entries about them. The export is recorded on the access trail first and listed in
    it. Works for an erased person too (their personal values are gone). Exits 0 when
    written, 3 when no such person, 69 when the read models are not built yet."""
    with _destination(output) as sink:
        settings = load_settings()
        with open_backend(settings) as backend, _connection(backend) as conn:
            person_id = person_id_of(backend.registry, person, backend.conninfo)
            try:
                document = export_subject(
                    backend.registry,
                    conn,
                    person_id,
                    actor=actor or f"cli:{getpass.getuser()}",
                    purpose=CLI_PURPOSE,
                )
            except errors.DomainError as error:
                fail(error.message, domain_exit_code(error))
            except psycopg.errors.UndefinedTable:
                fail(
                    "the read models are not built yet: run `campledger project`",
                    ExitCode.UNAVAILABLE,
                )
        sink.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    if output is not None:
        typer.echo(
            f"subject export of person {person_id} written to {output} "
            f"(access trail entry {document['export_entry']})"
        )


@contextlib.contextmanager
def _destination(output: Path | None) -> Iterator[IO[str]]:
    """stdout, or the file opened before anything is read or recorded (a path that cannot
    be written is refused first), removed again if the export fails."""
    if output is None:
        yield sys.stdout
        return
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}", ExitCode.FAILED)
    # An existing file keeps its mode through O_CREAT: narrow it before writing a byte.
    os.fchmod(fd, FILE_MODE)
    done = False
    try:
        with open(fd, "w", encoding="utf-8") as sink:
            yield sink
        done = True
    finally:
        if not done:
            output.unlink(missing_ok=True)


@contextlib.contextmanager
def _connection(backend: Backend) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(backend.conninfo, autocommit=True) as conn:
        create_access_trail(conn)
        yield conn


def register(app: typer.Typer) -> None:
    app.command("subject-export")(subject_export)
