"""Households: members and where each one is; households separated on the way."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.auth import Permission, Principal
from api.deps import ReadConn, check_scope, require
from api.problems import ApiProblem, bad_query
from projections import households

router = APIRouter(prefix="/households", tags=["households"])

Reader = Annotated[Principal, Depends(require(Permission.HOUSEHOLDS_READ))]


@router.get("/separated")
def separated(
    principal: Reader,
    conn: ReadConn,
    site_code: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Households whose members are at different sites, or held, in transit or unaccounted."""
    if site_code is not None:
        check_scope(principal, site_code)
    with bad_query():
        rows = households.separated_households(conn, site_code, after=after, limit=limit)
    return [r for r in rows if principal.covers_any(r.get("sites") or [None])]


@router.get("/{household_id}")
def get_household(household_id: str, principal: Reader, conn: ReadConn) -> dict[str, Any]:
    """A household's members, where each one is, and whether it is separated."""
    found = households.household(conn, household_id)
    if found is None:
        raise ApiProblem(
            404, "household-not-found", "Household not found", "no household with that id"
        )
    check_scope(principal, *(found.get("sites") or [None]))
    return found
