"""The HXL export tables as the API and the command line build them from the read models:
which sites (a caller's scope), which day (the operation's time zone), which caseload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from campledger.api.services import hdx, hxl
from campledger.api.services.hxl import Kind
from campledger.api.settings import Settings
from campledger.projections import caseload, flows, occupancy

# Whether a site's rows may be shown: a token's ``covers``, or every site.
Covers = Callable[[str | None], bool]


def every_site(_: str | None) -> bool:
    return True


def today(settings: Settings) -> date:
    """Today in the operation's time zone: the date an occupancy export reports."""
    return datetime.now(ZoneInfo(settings.operation_timezone)).date()


def occupancy_table(
    conn: psycopg.Connection[Any],
    covers: Covers,
    settings: Settings,
    suppress_below: int | None,
) -> hxl.Table:
    rows = _occupancy_rows(conn, covers, settings)
    return hxl.table(
        Kind.OCCUPANCY, rows, caseload=settings.caseload, suppress_below=suppress_below
    )


def _occupancy_rows(
    conn: psycopg.Connection[Any], covers: Covers, settings: Settings
) -> list[dict[str, Any]]:
    sites = [s for s in occupancy.list_sites(conn) if covers(s["code"])]
    figures = [o for o in occupancy.all_sites_occupancy(conn) if covers(o["site_code"])]
    households = caseload.household_counts(conn)
    return hxl.occupancy_rows(figures, sites, today(settings), households)


def flows_table(
    conn: psycopg.Connection[Any],
    covers: Covers,
    settings: Settings,
    start: date,
    end: date,
    suppress_below: int | None,
) -> hxl.Table:
    found = flows.daily_flows(conn, None, start, end, zone=settings.operation_timezone)
    sites = occupancy.list_sites(conn)
    rows = hxl.flow_rows((r for r in found if covers(r["site_code"])), sites)
    return hxl.table(Kind.FLOWS, rows, caseload=settings.caseload, suppress_below=suppress_below)


def nationalities_table(
    conn: psycopg.Connection[Any],
    covers: Covers,
    settings: Settings,
    suppress_below: int | None,
) -> hxl.Table:
    counts = [c for c in caseload.nationality_counts(conn) if covers(c["site_code"])]
    rows = hxl.nationality_rows(counts, occupancy.list_sites(conn), today(settings))
    # The occupancy export publishes each site's total: its nationalities must not give
    # back a total that export blanks.
    hidden = hxl.hidden_site_totals(_occupancy_rows(conn, covers, settings), suppress_below)
    return hxl.table(
        Kind.NATIONALITIES,
        rows,
        caseload=settings.caseload,
        suppress_below=suppress_below,
        hidden_totals=hidden,
    )


def metadata_period(
    export: Kind, settings: Settings, start: date | None, end: date | None
) -> tuple[date, date, str]:
    """The dataset's first and last day and the export's file name; ValueError for a flows
    export without its range or with one that ends before it starts."""
    if export is not Kind.FLOWS:
        day = today(settings)
        return day, day, f"{export}.hxl.csv"
    if start is None or end is None:
        raise ValueError("the flows export's metadata needs its start and end")
    if end < start:
        raise ValueError("the end of the range is before its start")
    return start, end, f"flows-{start}-{end}.hxl.csv"


def dataset_metadata(
    export: Kind,
    settings: Settings,
    suppress_below: int | None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """The HDX dataset metadata of one export, for the same parameters as the export (the
    API and the command line); ValueError as ``metadata_period``."""
    first, last, filename = metadata_period(export, settings, start, end)
    return hdx.metadata(
        export,
        caseload=settings.caseload,
        start=first,
        end=last,
        zone=settings.operation_timezone,
        suppress_below=suppress_below,
        filename=filename,
    )
