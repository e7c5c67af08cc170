"""The holds register: everyone held now, where, since when, on whose order; overdue reviews."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Response

from campledger.api.http.deps import ReadConn, require
from campledger.api.http.lists import Cursor, Limit, page_body, within
from campledger.api.schemas import Page
from campledger.api.services.access import check_scope
from campledger.api.services.access_trail import record_accesses
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query
from campledger.projections import holds

router = APIRouter(prefix="/holds", tags=["holds"])

HoldsReader = Annotated[Principal, Depends(require(Permission.HOLDS_READ))]


@router.get(
    "",
    response_model=None,
    responses={
        200: {"model": Page[dict[str, Any]], "description": "A page of the holds register."}
    },
)
def holds_register(
    principal: HoldsReader,
    conn: ReadConn,
    site: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Only holds at this site, or in transit from or to it.",
        ),
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(description="true: only holds past their review date; false: only the others."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Response:
    """Every person held now, longest held first: where (site, or in transit or unaccounted
    for on which transfer), since when (field time), on whose order (authority, order
    reference), days held, next review, and whether the review is overdue.

    A site-scoped token sees only holds at its sites or travelling from or to them. Names
    are shown only to roles that may read personal data, and each such read is put on the
    access trail."""
    if site is not None:
        check_scope(principal, site)
        sites: list[str] | None = [site]
    else:
        sites = within(principal)
    personal = principal.can(Permission.PERSONAL_DATA)
    with bad_query():
        page = holds.holds_page(
            conn, sites=sites, overdue=overdue, after=cursor, limit=limit, include_personal=personal
        )
    if personal:
        record_accesses(conn, principal.actor, [r["person_id"] for r in page.rows], "GET /holds")
    body = orjson.dumps(page_body(page))
    return Response(body, media_type="application/json")
