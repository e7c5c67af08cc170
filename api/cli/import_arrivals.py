"""``campledger import arrivals FILE.csv --site CODE``: a registration list, in bulk.

``-`` for the file reads it from stdin, for a list piped out of another tool."""

from __future__ import annotations

import getpass
import json
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from campledger.api.cli.shared import ExitCode, domain_exit_code, fail, load_settings
from campledger.api.composition import open_backend
from campledger.api.services.import_file import DateFormat, ImportFileError, arrival_template
from campledger.api.services.import_kobo import ImportSource
from campledger.api.services.import_report import ImportReport
from campledger.api.services.import_runner import import_arrivals
from campledger.domain.commands import MAX_BATCH
from campledger.domain.model import errors

console = Console()
err_console = Console(stderr=True)
import_app = typer.Typer(help="Bulk imports from files.")


def _default_workers() -> int:
    # Two processes keep both cores of a small field server busy alongside PostgreSQL;
    # more only queue on the event table's insert lock.
    return min(2, os.cpu_count() or 1)


@import_app.command("arrivals")
def arrivals(
    # A file type rather than a Path: Click opens it, reads stdin for "-", and turns a file
    # that cannot be opened into a usage error (Typer's Path check refuses "-" as missing).
    file: Annotated[
        typer.FileBinaryRead,
        typer.Argument(help="CSV with a header row (see docs); - reads it from stdin."),
    ],
    site: Annotated[str, typer.Option(help="Code of the (open) site the people arrived at.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and plan the batches; write nothing.")
    ] = False,
    skip_bad_rows: Annotated[
        bool,
        typer.Option("--skip-bad-rows", help="Import the good rows even if some rows are bad."),
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(help="Recorded as who registered them (default: cli:<login name>)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=MAX_BATCH, help="Arrivals per transaction.")
    ] = MAX_BATCH,
    workers: Annotated[
        int, typer.Option(min=1, max=8, help="Processes registering batches in parallel.")
    ] = _default_workers(),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    from_: Annotated[
        ImportSource,
        typer.Option(
            "--from",
            help="Whose columns the file has: campledger's, or a KoboToolbox/ODK export "
            "(XML values and headers); auto tells them apart by the header.",
        ),
    ] = ImportSource.AUTO,
    date_format: Annotated[
        DateFormat,
        typer.Option(
            "--date-format",
            help="How the file writes a full date of birth (03/04/2001 is ambiguous, so "
            "it is never guessed). A year alone (1985) is read in either.",
        ),
    ] = DateFormat.ISO,
) -> None:
    """Import arrivals from a CSV file: all rows are checked before any is written.

    Exits 0 when everything asked was done, 1 when rows were bad (nothing is imported
    unless --skip-bad-rows) or a batch was refused or the site is closed, 3 when there is
    no such site, 65 when the file is unusable, 75 when the database or a worker failed
    midway (run it again to resume).
    Running the same file again is safe: batches already imported are not repeated.
    """
    content = file.read()
    name = str(getattr(file, "name", "-"))  # stdin may be a stream without a name
    source = "stdin" if name in ("-", "<stdin>") else Path(name).name
    who = actor or f"cli:{getpass.getuser()}"
    progress = Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=as_json,
    )
    task: TaskID | None = None

    def checked(report: ImportReport) -> None:
        nonlocal task
        if not as_json:
            err_console.print(f"checked {report.rows:,} rows: {report.bad_rows:,} bad")
            if report.already_imported:
                err_console.print(
                    f"{report.already_imported:,} rows were imported by an earlier run of this file"
                )
        if not dry_run and (skip_bad_rows or not report.problems) and report.to_import:
            progress.start()
            task = progress.add_task("import", total=report.to_import, rate="")

    def advanced(rows: int) -> None:
        if task is not None:
            progress.advance(task, rows)
            elapsed = progress.tasks[0].elapsed or 0.0
            done = progress.tasks[0].completed
            rate = f"{done / elapsed:,.0f}/s" if elapsed else ""
            progress.update(task, rate=rate)

    settings = load_settings()
    with open_backend(settings) as backend:
        try:
            try:
                report = import_arrivals(
                    backend.registry,
                    content,
                    site_code=site,
                    actor=who,
                    dry_run=dry_run,
                    skip_bad_rows=skip_bad_rows,
                    batch_size=batch_size,
                    workers=workers,
                    worker_env=backend.library_env,
                    on_checked=checked,
                    on_progress=advanced,
                    date_format=date_format.value,
                    source=from_,
                )
            finally:
                if task is not None:  # a progress never started would still end a line
                    progress.stop()
        except ImportFileError as error:
            fail(f"cannot import {source}: {error}", ExitCode.DATA_ERROR)
        except errors.DomainError as error:
            fail(f"cannot import at {site}: {error.message}", domain_exit_code(error))
        except (PersistenceError, psycopg.Error, BrokenProcessPool) as error:
            # Batches written so far stand; the next run leaves them out.
            fail(
                f"the import stopped ({type(error).__name__}): the batches already written "
                "stand; run the same command again to import the rest",
                ExitCode.TEMPORARY_FAILURE,
            )
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report)
    raise typer.Exit(code=ExitCode.OK if report.ok else ExitCode.FAILED)


@import_app.command("template")
def template() -> None:
    """Print a header row and an example row to start an arrivals file from."""
    sys.stdout.write(arrival_template())


def _print_report(report: ImportReport) -> None:
    problems = report.all_problems()
    # Plain lines, one per problem, so that long reports stay greppable.
    for p in problems:
        print(f"line {p.line}: {p.column}: {p.reason} [{p.code}]")
    table = Table(title=f"import at {report.site_code}", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_row("rows in file", f"{report.rows:,}")
    table.add_row("bad rows", f"{report.bad_rows:,}")
    table.add_row("imported by an earlier run", f"{report.already_imported:,}")
    if report.dry_run:
        table.add_row("would import", f"{report.to_import:,}")
    else:
        table.add_row("imported now", f"{report.imported:,}")
        if report.replayed:
            table.add_row("imported by a concurrent run", f"{report.replayed:,}")
        table.add_row("refused at import", f"{report.refused:,}")
    if report.position is not None:
        table.add_row("log position", f"{report.position:,}")
    seconds = report.seconds
    table.add_row("seconds", f"{seconds:.2f}")
    if report.imported and seconds:
        table.add_row("arrivals/s", f"{report.imported / seconds:,.0f}")
    console.print(table)
    # The verdicts of a failed import go with the other refusals, to stderr.
    if report.problems and not report.skip_bad_rows:
        err_console.print(
            "[red]nothing was imported:[/] fix the rows above, or import the good ones "
            "with --skip-bad-rows"
        )
    elif report.refused:
        err_console.print(
            "[red]some batches were refused:[/] the other batches were imported; run the "
            "same command again to see which rows are still bad"
        )
    elif report.dry_run:
        console.print("dry run: nothing was written")


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
