"""HXL exports of occupancy and flows: aggregate figures per site, for HDX and partners.

Mounted before the sites router: ``/sites/occupancy.hxl.csv`` would otherwise be taken
for the site whose code is ``occupancy.hxl.csv``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from campledger.api.http.deps import ReadConn, require
from campledger.api.schemas import Date
from campledger.api.services import export_sheets, hxl, xlsx
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query
from campledger.projections import flows, occupancy

router = APIRouter(prefix="/sites", tags=["exports"])

SiteReader = Annotated[Principal, Depends(require(Permission.SITES_READ))]

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "HXL-tagged CSV."}
}


_XLSX: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {xlsx.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        "description": "The same table as an XLSX sheet: headers in row 1, HXL hashtags in "
        "row 2, counts as numbers and dates as dates.",
    }
}


def _attachment(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type=hxl.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/occupancy.hxl.csv", response_class=Response, responses=_CSV)
def occupancy_hxl(principal: SiteReader, conn: ReadConn) -> Response:
    """Today's head count of every site (the caller's, if scoped) by sex and age band, as HXL."""
    sites = [s for s in occupancy.list_sites(conn) if principal.covers(s["code"])]
    figures = [o for o in occupancy.all_sites_occupancy(conn) if principal.covers(o["site_code"])]
    rows = hxl.occupancy_rows(figures, sites, datetime.now(UTC).date())
    return _attachment(hxl.to_csv(hxl.OCCUPANCY_COLUMNS, rows), "occupancy.hxl.csv")


@router.get("/flows.hxl.csv", response_class=Response, responses=_CSV)
def flows_hxl(principal: SiteReader, conn: ReadConn, start: Date, end: Date) -> Response:
    """Arrivals, transfers in and out, departures per site per day (field time), as HXL."""
    with bad_query():
        found = flows.daily_flows(conn, None, start, end)
    sites = occupancy.list_sites(conn)
    rows = hxl.flow_rows((r for r in found if principal.covers(r["site_code"])), sites)
    return _attachment(hxl.to_csv(hxl.FLOW_COLUMNS, rows), f"flows-{start}-{end}.hxl.csv")


def _workbook(content: bytes, filename: str) -> Response:
    return Response(
        content, media_type=xlsx.MEDIA_TYPE, headers=export_sheets.attachment_headers(filename)
    )


@router.get("/occupancy.hxl.xlsx", response_class=Response, responses=_XLSX)
def occupancy_xlsx(principal: SiteReader, conn: ReadConn) -> Response:
    """Today's head count of every site (the caller's, if scoped), as an HXL spreadsheet."""
    sites = [s for s in occupancy.list_sites(conn) if principal.covers(s["code"])]
    figures = [o for o in occupancy.all_sites_occupancy(conn) if principal.covers(o["site_code"])]
    rows = hxl.occupancy_rows(figures, sites, datetime.now(UTC).date())
    content = export_sheets.hxl_workbook("occupancy", hxl.OCCUPANCY_COLUMNS, rows)
    return _workbook(content, "occupancy.hxl.xlsx")


@router.get("/flows.hxl.xlsx", response_class=Response, responses=_XLSX)
def flows_xlsx(principal: SiteReader, conn: ReadConn, start: Date, end: Date) -> Response:
    """Arrivals, transfers in and out, departures per site per day, as an HXL spreadsheet."""
    with bad_query():
        found = flows.daily_flows(conn, None, start, end)
    sites = occupancy.list_sites(conn)
    rows = hxl.flow_rows((r for r in found if principal.covers(r["site_code"])), sites)
    content = export_sheets.hxl_workbook("flows", hxl.FLOW_COLUMNS, rows)
    return _workbook(content, f"flows-{start}-{end}.hxl.xlsx")
