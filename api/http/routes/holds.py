"""The holds register: everyone held now, where, since when, on whose order; overdue reviews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from campledger.api.http.deps import ReadConn, require
from campledger.api.http.lists import Cursor, Limit, page_body
from campledger.api.schemas import Page
from campledger.api.schemas.people import HoldPublic
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.holds_read import holds_register_page

router = APIRouter(prefix="/holds", tags=["holds"])

HoldsReader = Annotated[Principal, Depends(require(Permission.HOLDS_READ))]


@router.get("", response_model=Page[HoldPublic], response_model_exclude_unset=True)
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
) -> dict[str, Any]:
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
    return page_body(page)
