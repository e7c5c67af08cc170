"""Sites: open, change capacity, close, list, get; rosters, occupancy and flows."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from campledger.api.http.deps import BackendDep, ReadConn, require
from campledger.api.http.dispatch import IdempotencyKey, allowed, send
from campledger.api.http.lists import Cursor, FormerCursor, Limit, page_body, page_of
from campledger.api.http.roster_params import roster_query
from campledger.api.schemas import (
    NEED_PATTERN,
    CapacityChange,
    Date,
    DateTime,
    Page,
    SiteClose,
    SiteCommandPublic,
    SiteCreate,
)
from campledger.api.services import export_sheets, xlsx
from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query
from campledger.api.services.rosters import (
    RosterQuery,
    known_site,
    read_roster,
    roster_csv,
    roster_csv_headers,
    site_found,
)
from campledger.api.services.scoping import within
from campledger.domain.commands import ChangeSiteCapacity, CloseSite, OpenSite
from campledger.domain.model.values import PersonStatus
from campledger.projections import flows, occupancy
from campledger.projections.ages import BAND_NAMES
from campledger.projections.collation import Locale
from campledger.projections.roster import RosterOrder

router = APIRouter(prefix="/sites", tags=["sites"])


SiteReader = Annotated[Principal, Depends(require(Permission.SITES_READ))]
SiteWriter = Annotated[Principal, allowed(OpenSite)]
RosterReader = Annotated[Principal, Depends(require(Permission.ROSTERS_READ))]


@router.post("", status_code=201, response_model=SiteCommandPublic)
def open_site(
    body: SiteCreate,
    principal: SiteWriter,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Open a site (reception point, screening centre, transit site, camp, hospital, holding)."""
    command = OpenSite(**body.model_dump())
    return send(command, principal, backend, response, idempotency_key)


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


@router.get("", response_model=Page[dict[str, Any]])
def list_sites(
    principal: SiteReader, conn: ReadConn, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    """Every site the caller may see, by code."""
    return page_of(occupancy.sites_page, conn, principal, cursor, limit)


@router.get("/occupancy", response_model=Page[dict[str, Any]])
def all_occupancy(
    principal: SiteReader, conn: ReadConn, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    """Head counts of every site (the caller's sites, if scoped) against capacity, by code."""
    return page_of(occupancy.occupancy_page, conn, principal, cursor, limit)


@router.get("/flows", response_model=Page[dict[str, Any]])
def all_flows(
    principal: SiteReader,
    conn: ReadConn,
    start: Date,
    end: Date,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Arrivals, transfers in and out, departures per site per day (field time), by day."""
    with bad_query():
        page = flows.flows_page(
            conn, None, start, end, within=within(principal), after=cursor, limit=limit
        )
    return page_body(page)


@router.get("/{code}")
def get_site(code: str, principal: SiteReader, conn: ReadConn) -> dict[str, Any]:
    check_scope(principal, code)
    return known_site(conn, code)


@router.get("/{code}/occupancy")
def site_occupancy(code: str, principal: SiteReader, conn: ReadConn) -> dict[str, Any]:
    """Head count by sex × age band and by specific need, against capacity."""
    check_scope(principal, code)
    return site_found(occupancy.site_occupancy(conn, code), code)


@router.get("/{code}/flows", response_model=Page[dict[str, Any]])
def site_flows(
    code: str,
    principal: SiteReader,
    conn: ReadConn,
    start: Date,
    end: Date,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    check_scope(principal, code)
    # A mistyped code must not read as "no movement at this site".
    known_site(conn, code)
    with bad_query():
        page = flows.flows_page(conn, code, start, end, after=cursor, limit=limit)
    return page_body(page)


@router.get(
    "/{code}/roster",
    response_model=None,
    responses={
        200: {
            "model": Page[dict[str, Any]],
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "A page of the roster: JSON, or CSV with `format=csv` "
            "(the next page's cursor then in the `X-Next-Cursor` header).",
        }
    },
)
def site_roster(
    code: str,
    principal: RosterReader,
    conn: ReadConn,
    status: Annotated[str | None, Query(json_schema_extra={"enum": list(PersonStatus)})] = None,
    sex: str | None = None,
    # A band outside the vocabulary is refused by the read model (400), as the document states.
    age_band: Annotated[str | None, Query(json_schema_extra={"enum": BAND_NAMES})] = None,
    nationality: str | None = None,
    specific_need: Annotated[
        str | None,
        Query(
            json_schema_extra={"pattern": NEED_PATTERN},
            description="A UNHCR code; a category takes its sub-codes.",
        ),
    ] = None,
    household_id: str | None = None,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Any spelling of the person's name, in either script (محمد finds "
            "Mohamed and Muhammad): every word given must be in the name. Needs "
            "persons:personal. A name with no letters to search by finds nobody.",
        ),
    ] = None,
    sort: Annotated[
        RosterOrder,
        Query(
            description="`name`: by family name, then given name, as readers of `lang` "
            "expect (needs persons:personal)."
        ),
    ] = RosterOrder.REGISTRATION_NUMBER,
    lang: Annotated[
        Locale,
        Query(
            description="The reader's language for `sort=name`: `en` sorts by the Latin "
            "form when there is one; `ar` by the name as written, Arabic script first."
        ),
    ] = Locale.EN,
    as_of: Annotated[
        DateTime | None,
        Query(
            description="Field time: who was here then (ids and status only; no "
            "filter, name search or sort goes with it)."
        ),
    ] = None,
    cursor: Cursor = None,
    after: FormerCursor = None,
    limit: Limit = 100,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    """Who is at the site (present or held), filtered and keyset-paginated; JSON or CSV.

    With ``as_of``, who was at the site at that field time (ids and status only)."""
    query = RosterQuery(
        status=status, sex=sex, age_band=age_band, nationality=nationality,
        specific_need=specific_need, household_id=household_id, name=name, sort=sort,
        lang=lang, as_of=as_of,
        # Roster cursors were opaque before every list had one scheme, under the name `after`.
        cursor=cursor or after, limit=limit,
    )  # fmt: skip
    read = read_roster(conn, principal, code, query, "GET /sites/{code}/roster")
    page = read.page
    if format == "csv":
        rows = roster_csv(page.rows, read.csv_columns)
        headers = roster_csv_headers(code, page)
        return StreamingResponse(rows, media_type="text/csv", headers=headers)
    # orjson writes the same bytes as FastAPI's generic encoder (UUIDs, dates, datetimes)
    # at a fraction of its cost, which was most of the time of a page of 100 people.
    body = orjson.dumps(page_body(page))
    return Response(body, media_type="application/json")


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
