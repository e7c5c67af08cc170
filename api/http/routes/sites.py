"""Sites: open, change capacity, close, list, get; rosters, occupancy and flows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from campledger.api.http.deps import BackendDep, ReadConn, require
from campledger.api.http.dispatch import IdempotencyKey, allowed, send
from campledger.api.http.lists import Cursor, Limit, page_body, page_of
from campledger.api.http.roster_params import roster_query
from campledger.api.schemas import (
    CapacityChange,
    Date,
    Page,
    SiteClose,
    SiteCommandPublic,
    SiteCreate,
)
from campledger.api.schemas.people import RosterPage
from campledger.api.schemas.places import FlowPublic, OccupancyPublic, SitePublic
from campledger.api.services import export_sheets, xlsx
from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query
from campledger.api.services.rosters import (
    RosterQuery,
    RosterRead,
    known_site,
    read_roster,
    roster_csv,
    roster_csv_headers,
    site_found,
)
from campledger.api.services.scoping import within
from campledger.domain.commands import ChangeSiteCapacity, CloseSite, OpenSite
from campledger.projections import flows, occupancy

router = APIRouter(prefix="/sites", tags=["sites"])


SiteReader = Annotated[Principal, Depends(require(Permission.SITES_READ))]
SiteWriter = Annotated[Principal, allowed(OpenSite)]
RosterReader = Annotated[Principal, Depends(require(Permission.ROSTERS_READ))]


@router.post("", status_code=201, response_model=SiteCommandPublic)
def open_site(
    body: SiteCreate,
    principal: SiteWriter,
    backend: BackendDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Open a site (reception point, screening centre, transit site, camp, hospital,
    holding); ``Location`` is the new site's URL."""
    command = OpenSite(**body.model_dump())
    return send(
        command, principal, backend, response, idempotency_key,
        located=lambda result: str(request.url_for("get_site", code=result["site_code"])),
    )  # fmt: skip


@router.post("/{code}/capacity", response_model=SiteCommandPublic)
def change_capacity(
    code: str,
    body: CapacityChange,
    principal: SiteWriter,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Change how many people a site can host."""
    command = ChangeSiteCapacity(code=code, **body.model_dump())
    return send(command, principal, backend, response, idempotency_key)


@router.post("/{code}/close", response_model=SiteCommandPublic)
def close_site(
    code: str,
    body: SiteClose,
    principal: SiteWriter,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Close a site: it receives no more arrivals or transfers."""
    command = CloseSite(code=code, **body.model_dump())
    return send(command, principal, backend, response, idempotency_key)


@router.get("", response_model=Page[SitePublic])
def list_sites(
    principal: SiteReader, conn: ReadConn, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    """Every site the caller may see, by code."""
    return page_of(occupancy.sites_page, conn, principal, cursor, limit)


@router.get("/occupancy", response_model=Page[OccupancyPublic])
def all_occupancy(
    principal: SiteReader, conn: ReadConn, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    """Head counts of every site (the caller's sites, if scoped) against capacity, by code."""
    return page_of(occupancy.occupancy_page, conn, principal, cursor, limit)


@router.get("/flows", response_model=Page[FlowPublic])
def all_flows(
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    start: Date,
    end: Date,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Arrivals, transfers in and out, departures per site per day (field time, days of the
    operation's time zone), by day."""
    with bad_query():
        page = flows.flows_page(
            conn, None, start, end, within=within(principal), after=cursor, limit=limit,
            zone=backend.settings.operation_timezone,
        )  # fmt: skip
    return page_body(page)


@router.get("/{code}", response_model=SitePublic)
def get_site(code: str, principal: SiteReader, conn: ReadConn) -> dict[str, Any]:
    """A site: its kind, capacity, place (P-codes, coordinates), and whether it is open."""
    check_scope(principal, code)
    return known_site(conn, code)


@router.get("/{code}/occupancy", response_model=OccupancyPublic)
def site_occupancy(code: str, principal: SiteReader, conn: ReadConn) -> dict[str, Any]:
    """Head count by sex × age band and by specific need, against capacity."""
    check_scope(principal, code)
    return site_found(occupancy.site_occupancy(conn, code), code)


@router.get("/{code}/flows", response_model=Page[FlowPublic])
def site_flows(
    code: str,
    principal: SiteReader,
    conn: ReadConn,
    backend: BackendDep,
    start: Date,
    end: Date,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Arrivals, transfers in and out, departures at one site per day (field time, days of
    the operation's time zone)."""
    check_scope(principal, code)
    # A mistyped code must not read as "no movement at this site".
    known_site(conn, code)
    with bad_query():
        page = flows.flows_page(
            conn, code, start, end, after=cursor, limit=limit,
            zone=backend.settings.operation_timezone,
        )  # fmt: skip
    return page_body(page)


_ROSTER_CSV_DOC = (
    "A page of the roster as CSV (`/roster.csv`): one row per person, the columns of the "
    "JSON items; the next page's cursor in the `X-Next-Cursor` header."
)


@router.get(
    "/{code}/roster",
    response_model=RosterPage,
    response_model_exclude_unset=True,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "A page of the roster (JSON; CSV with the deprecated `format=csv`).",
        }
    },
)
def site_roster(
    code: str,
    principal: RosterReader,
    conn: ReadConn,
    query: Annotated[RosterQuery, Depends(roster_query)],
    format: Annotated[
        str,
        Query(
            pattern="^(json|csv)$",
            deprecated=True,
            description="`csv`: the same page as `GET /sites/{code}/roster.csv`, which is "
            "the way to ask for CSV; still accepted.",
        ),
    ] = "json",
) -> Any:
    """Who is at the site (present or held), filtered and keyset-paginated.

    With ``as_of``, who was at the site at that field time (ids and status only). Personal
    fields (names, date of birth, biometric reference) only for roles that may read them,
    and every such read is put on the access trail."""
    read = read_roster(conn, principal, code, query, "GET /sites/{code}/roster")
    if format == "csv":
        return _roster_csv(code, read)
    return page_body(read.page)


@router.get(
    "/{code}/roster.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                     "description": _ROSTER_CSV_DOC}},
)  # fmt: skip
def site_roster_csv(
    code: str,
    principal: RosterReader,
    conn: ReadConn,
    query: Annotated[RosterQuery, Depends(roster_query)],
) -> StreamingResponse:
    """Who is at the site, as the roster lists them, as CSV: the same rights, scope,
    filters and pages as the roster, and the same access trail."""
    read = read_roster(conn, principal, code, query, "GET /sites/{code}/roster.csv")
    return _roster_csv(code, read)


def _roster_csv(code: str, read: RosterRead) -> StreamingResponse:
    rows = roster_csv(read.page.rows, read.csv_columns)
    headers = roster_csv_headers(code, read.page)
    return StreamingResponse(rows, media_type="text/csv", headers=headers)


@router.get(
    "/{code}/roster.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {xlsx.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "A page of the roster as a spreadsheet: the CSV's columns, typed "
            "cells (dates as dates, UTC), right to left with `lang=ar`; the next page's "
            "cursor in the `X-Next-Cursor` header.",
        }
    },
)
def site_roster_xlsx(
    code: str,
    principal: RosterReader,
    conn: ReadConn,
    query: Annotated[RosterQuery, Depends(roster_query)],
) -> Response:
    """Who is at the site, as the roster lists them, in an XLSX workbook of one sheet.

    The same rights, scope, filters and pages as the roster; every person shown with
    personal data is on the access trail, as for any reading of the roster."""
    read = read_roster(conn, principal, code, query, "GET /sites/{code}/roster.xlsx")
    return Response(
        export_sheets.roster_workbook(read, query.lang),
        media_type=xlsx.MEDIA_TYPE,
        headers=export_sheets.attachment_headers(f"roster-{code}.xlsx", read.page),
    )
