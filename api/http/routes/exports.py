"""HXL exports of occupancy, flows and nationalities: aggregate figures per site, for HDX
and partners, with the HDX dataset metadata of each.

Mounted before the sites router: ``/sites/occupancy.hxl.csv`` would otherwise be taken
for the site whose code is ``occupancy.hxl.csv``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from campledger.api.http.deps import BackendDep, ReadConn, require
from campledger.api.schemas import Date
from campledger.api.schemas.exports import HdxDataset
from campledger.api.services import export_sheets, hxl, hxl_exports, xlsx
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.hxl import Kind
from campledger.api.services.problems import bad_query

router = APIRouter(prefix="/sites", tags=["exports"])

SiteReader = Annotated[Principal, Depends(require(Permission.SITES_READ))]

SuppressBelow = Annotated[
    int | None,
    Query(
        ge=2,
        le=1000,
        description="Small-count protection: every count from 1 to this number minus one is "
        "left blank, and so is whatever other count or total would give it back (the smallest "
        "other count of the same sum, or the total). Without it nothing is blanked. "
        "See docs/exports.md.",
    ),
]

_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "HXL-tagged CSV: headers, then HXL hashtags, then one row per site "
        "(and day or nationality). A count left blank was suppressed (`suppress_below`).",
    }
}

_XLSX: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {xlsx.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        "description": "The same table as an XLSX sheet: headers in row 1, HXL hashtags in "
        "row 2, counts as numbers and dates as dates; a suppressed count is an empty cell.",
    }
}


def _attachment(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type=hxl.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _workbook(content: bytes, filename: str) -> Response:
    return Response(
        content, media_type=xlsx.MEDIA_TYPE, headers=export_sheets.attachment_headers(filename)
    )


@router.get("/occupancy.hxl.csv", response_class=Response, responses=_CSV)
def occupancy_hxl(
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    suppress_below: SuppressBelow = None,
) -> Response:
    """Today's head count of every site (the caller's, if scoped) by sex and age band, with
    households, as HXL."""
    table = hxl_exports.occupancy_table(conn, principal.covers, backend.settings, suppress_below)
    return _attachment(hxl.to_csv(table), "occupancy.hxl.csv")


@router.get("/flows.hxl.csv", response_class=Response, responses=_CSV)
def flows_hxl(
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    start: Date,
    end: Date,
    suppress_below: SuppressBelow = None,
) -> Response:
    """Arrivals, transfers in and out, departures per site per day of the operation's time
    zone (field time), as HXL."""
    with bad_query():
        table = hxl_exports.flows_table(
            conn, principal.covers, backend.settings, start, end, suppress_below
        )
    return _attachment(hxl.to_csv(table), f"flows-{start}-{end}.hxl.csv")


@router.get("/nationalities.hxl.csv", response_class=Response, responses=_CSV)
def nationalities_hxl(
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    suppress_below: SuppressBelow = None,
) -> Response:
    """Today's head count of every site (the caller's, if scoped) per nationality (ISO 3166
    alpha-3), as HXL."""
    table = hxl_exports.nationalities_table(
        conn, principal.covers, backend.settings, suppress_below
    )
    return _attachment(hxl.to_csv(table), "nationalities.hxl.csv")


@router.get("/occupancy.hxl.xlsx", response_class=Response, responses=_XLSX)
def occupancy_xlsx(
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    suppress_below: SuppressBelow = None,
) -> Response:
    """Today's head count of every site (the caller's, if scoped), as an HXL spreadsheet."""
    table = hxl_exports.occupancy_table(conn, principal.covers, backend.settings, suppress_below)
    content = export_sheets.hxl_workbook("occupancy", table)
    return _workbook(content, "occupancy.hxl.xlsx")


@router.get("/flows.hxl.xlsx", response_class=Response, responses=_XLSX)
def flows_xlsx(
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    start: Date,
    end: Date,
    suppress_below: SuppressBelow = None,
) -> Response:
    """Arrivals, transfers in and out, departures per site per day, as an HXL spreadsheet."""
    with bad_query():
        table = hxl_exports.flows_table(
            conn, principal.covers, backend.settings, start, end, suppress_below
        )
    content = export_sheets.hxl_workbook("flows", table)
    return _workbook(content, f"flows-{start}-{end}.hxl.xlsx")


@router.get("/nationalities.hxl.xlsx", response_class=Response, responses=_XLSX)
def nationalities_xlsx(
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    suppress_below: SuppressBelow = None,
) -> Response:
    """Today's head count of every site (the caller's, if scoped) per nationality, as an
    HXL spreadsheet."""
    table = hxl_exports.nationalities_table(
        conn, principal.covers, backend.settings, suppress_below
    )
    content = export_sheets.hxl_workbook("nationalities", table)
    return _workbook(content, "nationalities.hxl.xlsx")


@router.get("/{export}.hdx.json", response_model=HdxDataset)
def hdx_metadata(
    export: Kind,
    principal: SiteReader,
    backend: BackendDep,
    start: Annotated[
        Date | None, Query(description="Flows only (and required there): the first day.")
    ] = None,
    end: Annotated[Date | None, Query(description="Flows only: the last day, included.")] = None,
    suppress_below: SuppressBelow = None,
) -> dict[str, Any]:
    """The HDX dataset metadata of one export (title, description, source, methodology,
    caveats, licence, date of dataset, tags), for the same parameters as the export."""
    with bad_query():
        return hxl_exports.dataset_metadata(export, backend.settings, suppress_below, start, end)
