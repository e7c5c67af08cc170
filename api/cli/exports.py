"""``campledger export occupancy|flows [--hxl] [--xlsx -o FILE]``: aggregate figures as CSV
or as a spreadsheet, for partners."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console

from campledger.api.cli.shared import ExitCode, fail, load_settings
from campledger.api.composition import open_backend
from campledger.api.services import export_sheets, hxl
from campledger.projections import flows, occupancy

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


def _emit_table(
    sheet: str,
    columns: tuple[hxl.Column, ...],
    rows: list[dict[str, Any]],
    *,
    as_hxl: bool,
    as_xlsx: bool,
    output: Path | None,
) -> None:
    """The table as CSV (stdout or ``output``), or as a workbook written to ``output``."""
    if not as_xlsx:
        _emit(hxl.to_csv(columns, rows, hxl=as_hxl), output)
        return
    assert output is not None  # checked before the database was read
    output.write_bytes(export_sheets.hxl_workbook(sheet, columns, rows, hxl=as_hxl))
    err_console.print(f"wrote {output}")


def _needs_output(as_xlsx: bool, output: Path | None) -> None:
    # A workbook is binary: written over a terminal it would only garble it.
    if as_xlsx and output is None:
        raise typer.BadParameter("an XLSX workbook is written to a file", param_hint="--output")


def _read(query: Any) -> Any:
    with open_backend(load_settings()) as backend, psycopg.connect(backend.conninfo) as conn:
        try:
            return query(conn)
        except psycopg.errors.UndefinedTable:
            fail(
                "the read models are not built yet: run `campledger project`", ExitCode.UNAVAILABLE
            )


@export_app.command("occupancy")
def occupancy_export(as_hxl: Hxl = False, as_xlsx: Xlsx = False, output: Output = None) -> None:
    """Today's head count of every site by sex and age band, against capacity."""
    _needs_output(as_xlsx, output)

    def query(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
        sites = occupancy.list_sites(conn)
        return hxl.occupancy_rows(
            occupancy.all_sites_occupancy(conn), sites, datetime.now(UTC).date()
        )

    rows = _read(query)
    _emit_table(
        "occupancy", hxl.OCCUPANCY_COLUMNS, rows, as_hxl=as_hxl, as_xlsx=as_xlsx, output=output
    )


@export_app.command("flows")
def flows_export(
    start: Annotated[
        date,
        typer.Option(help="First day (field time, UTC).", parser=_day, metavar="YYYY-MM-DD"),
    ],
    end: Annotated[
        date, typer.Option(help="Last day, included.", parser=_day, metavar="YYYY-MM-DD")
    ],
    as_hxl: Hxl = False,
    as_xlsx: Xlsx = False,
    output: Output = None,
) -> None:
    """Arrivals, transfers in and out, and departures per site per day."""
    first, last = start, end
    if last < first:
        raise typer.BadParameter("the end is before the start", param_hint="--end")
    _needs_output(as_xlsx, output)

    def query(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
        return hxl.flow_rows(flows.daily_flows(conn, None, first, last), occupancy.list_sites(conn))

    rows = _read(query)
    _emit_table("flows", hxl.FLOW_COLUMNS, rows, as_hxl=as_hxl, as_xlsx=as_xlsx, output=output)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
