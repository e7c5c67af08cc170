"""The holds register: everyone held now, where, since when, on whose order; overdue reviews."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Response

from campledger.api.http.deps import ReadConn, require
from campledger.api.http.lists import Cursor, Limit, page_body
from campledger.api.schemas import Page
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.holds_read import holds_register_page

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
    page = holds_register_page(
        conn, principal, site=site, overdue=overdue, cursor=cursor, limit=limit,
        purpose="GET /holds",
    )  # fmt: skip
    body = orjson.dumps(page_body(page))
    return Response(body, media_type="application/json")
