"""``campledger export occupancy|flows|nationalities [--hxl] [--xlsx -o FILE]
[--suppress-below N] [--hdx-metadata]``: aggregate figures as CSV or as a spreadsheet, or
the HDX dataset metadata of one, for partners."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console

from campledger.api.cli.shared import ExitCode, fail, load_settings
from campledger.api.composition import open_backend
from campledger.api.services import export_sheets, hxl
from campledger.api.services import hxl_exports as tables
from campledger.api.services.hxl import Kind
from campledger.api.settings import Settings

err_console = Console(stderr=True)
export_app = typer.Typer(help="Aggregate exports: head counts and flows, never persons.")

Hxl = Annotated[bool, typer.Option("--hxl", help="Add the HXL hashtag row under the header.")]
Xlsx = Annotated[
    bool,
    typer.Option(
        "--xlsx",
        help="Write an XLSX spreadsheet (typed cells) instead of CSV; needs --output.",
    ),
]
SuppressBelow = Annotated[
    int | None,
    typer.Option(
        "--suppress-below",
        min=2,
        max=1000,
        metavar="N",
        help="Leave every count from 1 to N-1 blank, and whatever other count or total would "
        "give it back (docs/exports.md).",
    ),
]
HdxMetadata = Annotated[
    bool,
    typer.Option(
        "--hdx-metadata",
        help="Write the export's HDX dataset metadata (JSON) instead of the export.",
    ),
]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write here, not stdout.")
]


def _day(text: str) -> date:
    """A day, parsed with the command line: a malformed one is a usage error naming the
    option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date as YYYY-MM-DD") from None


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}")


def _emit_table(table: hxl.Table, *, as_hxl: bool, as_xlsx: bool, output: Path | None) -> None:
    """The table as CSV (stdout or ``output``), or as a workbook written to ``output``."""
    if not as_xlsx:
        _emit(hxl.to_csv(table, hxl=as_hxl), output)
        return
    assert output is not None  # checked before the database was read
    output.write_bytes(export_sheets.hxl_workbook(str(table.kind), table, hxl=as_hxl))
    err_console.print(f"wrote {output}")


def _needs_output(as_xlsx: bool, output: Path | None) -> None:
    # A workbook is binary: written over a terminal it would only garble it.
    if as_xlsx and output is None:
        raise typer.BadParameter("an XLSX workbook is written to a file", param_hint="--output")


def _read(settings: Settings, query: Any) -> Any:
    with open_backend(settings) as backend, psycopg.connect(backend.conninfo) as conn:
        try:
            return query(conn)
        except psycopg.errors.UndefinedTable:
            fail(
                "the read models are not built yet: run `campledger project`", ExitCode.UNAVAILABLE
            )


def _metadata(
    kind: Kind,
    settings: Settings,
    suppress_below: int | None,
    output: Path | None,
    start: date | None = None,
    end: date | None = None,
) -> None:
    found = tables.dataset_metadata(kind, settings, suppress_below, start, end)
    _emit(json.dumps(found, indent=2, ensure_ascii=False) + "\n", output)


# An export's table of every site, read from the read models.
TableOf = Callable[[psycopg.Connection[Any], Settings, int | None], hxl.Table]
# A head-count table (hxl_exports), for the sites it covers.
HeadCount = Callable[[psycopg.Connection[Any], tables.Covers, Settings, int | None], hxl.Table]


def _export(
    kind: Kind,
    table_of: TableOf,
    *,
    as_hxl: bool,
    as_xlsx: bool,
    output: Path | None,
    suppress_below: int | None,
    hdx_metadata: bool,
    start: date | None = None,
    end: date | None = None,
) -> None:
    """One export, or its HDX metadata: what every export command does once its own
    options are read."""
    _needs_output(as_xlsx, output)
    settings = load_settings()
    if hdx_metadata:
        _metadata(kind, settings, suppress_below, output, start, end)
        return
    table = _read(settings, lambda conn: table_of(conn, settings, suppress_below))
    _emit_table(table, as_hxl=as_hxl, as_xlsx=as_xlsx, output=output)


def _head_count_command(kind: Kind, head_count: HeadCount, summary: str) -> Callable[..., None]:
    """The command exporting today's head count of every site as one table: the head
    counts take the same options and differ only in the table."""

    def command(
        as_hxl: Hxl = False,
        as_xlsx: Xlsx = False,
        output: Output = None,
        suppress_below: SuppressBelow = None,
        hdx_metadata: HdxMetadata = False,
    ) -> None:
        def table_of(conn: Any, settings: Settings, below: int | None) -> hxl.Table:
            return head_count(conn, tables.every_site, settings, below)

        _export(
            kind, table_of, as_hxl=as_hxl, as_xlsx=as_xlsx, output=output,
            suppress_below=suppress_below, hdx_metadata=hdx_metadata,
        )  # fmt: skip

    command.__doc__ = summary
    return command


_OCCUPANCY = "Today's head count of every site by sex and age band, households, against capacity."
_NATIONALITIES = "Today's head count of every site per nationality (ISO 3166 alpha-3)."
export_app.command("occupancy")(
    _head_count_command(Kind.OCCUPANCY, tables.occupancy_table, _OCCUPANCY)
)
export_app.command("nationalities")(
    _head_count_command(Kind.NATIONALITIES, tables.nationalities_table, _NATIONALITIES)
)


@export_app.command("flows")
def flows_export(
    start: Annotated[
        date,
        typer.Option(
            help="First day (of CAMPLEDGER_OPERATION_TIMEZONE).", parser=_day, metavar="YYYY-MM-DD"
        ),
    ],
    end: Annotated[
        date, typer.Option(help="Last day, included.", parser=_day, metavar="YYYY-MM-DD")
    ],
    as_hxl: Hxl = False,
    as_xlsx: Xlsx = False,
    output: Output = None,
    suppress_below: SuppressBelow = None,
    hdx_metadata: HdxMetadata = False,
) -> None:
    """Arrivals, transfers in and out, and departures per site per day."""
    if end < start:
        raise typer.BadParameter("the end is before the start", param_hint="--end")
    _export(
        Kind.FLOWS,
        lambda conn, settings, below: tables.flows_table(
            conn, tables.every_site, settings, start, end, below
        ),
        as_hxl=as_hxl, as_xlsx=as_xlsx, output=output, suppress_below=suppress_below,
        hdx_metadata=hdx_metadata, start=start, end=end,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
