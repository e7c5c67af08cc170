"""``campledger export occupancy|flows|nationalities [--hxl] [--xlsx -o FILE]
[--suppress-below N] [--hdx-metadata]``: aggregate figures as CSV or as a spreadsheet, or
the HDX dataset metadata of one, for partners."""

from __future__ import annotations

import json
import sys
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


@export_app.command("occupancy")
def occupancy_export(
    as_hxl: Hxl = False,
    as_xlsx: Xlsx = False,
    output: Output = None,
    suppress_below: SuppressBelow = None,
    hdx_metadata: HdxMetadata = False,
) -> None:
    """Today's head count of every site by sex and age band, households, against capacity."""
    _needs_output(as_xlsx, output)
    settings = load_settings()
    if hdx_metadata:
        _metadata(Kind.OCCUPANCY, settings, suppress_below, output)
        return
    table = _read(
        settings,
        lambda conn: tables.occupancy_table(conn, tables.every_site, settings, suppress_below),
    )
    _emit_table(table, as_hxl=as_hxl, as_xlsx=as_xlsx, output=output)


@export_app.command("nationalities")
def nationalities_export(
    as_hxl: Hxl = False,
    as_xlsx: Xlsx = False,
    output: Output = None,
    suppress_below: SuppressBelow = None,
    hdx_metadata: HdxMetadata = False,
) -> None:
    """Today's head count of every site per nationality (ISO 3166 alpha-3)."""
    _needs_output(as_xlsx, output)
    settings = load_settings()
    if hdx_metadata:
        _metadata(Kind.NATIONALITIES, settings, suppress_below, output)
        return
    table = _read(
        settings,
        lambda conn: tables.nationalities_table(conn, tables.every_site, settings, suppress_below),
    )
    _emit_table(table, as_hxl=as_hxl, as_xlsx=as_xlsx, output=output)


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
    first, last = start, end
    if last < first:
        raise typer.BadParameter("the end is before the start", param_hint="--end")
    _needs_output(as_xlsx, output)
    settings = load_settings()
    if hdx_metadata:
        _metadata(Kind.FLOWS, settings, suppress_below, output, first, last)
        return
    table = _read(
        settings,
        lambda conn: tables.flows_table(
            conn, tables.every_site, settings, first, last, suppress_below
        ),
    )
    _emit_table(table, as_hxl=as_hxl, as_xlsx=as_xlsx, output=output)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
