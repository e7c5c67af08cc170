"""Households: members and where each one is; households separated on the way."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from campledger.api.http.deps import ReadConn, require
from campledger.api.http.lists import Cursor, Limit, page_body
from campledger.api.schemas import Page
from campledger.api.schemas.families import HouseholdPublic, HouseholdSummary
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.households_read import read_household, separated_page

router = APIRouter(prefix="/households", tags=["households"])

Reader = Annotated[Principal, Depends(require(Permission.HOUSEHOLDS_READ))]


@router.get("/separated", response_model=Page[HouseholdSummary])
def separated(
    principal: Reader,
    conn: ReadConn,
    site_code: str | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Households whose members are at different sites, or held, in transit or unaccounted.
    A site-scoped reader sees those with a member at its sites, listing only its sites
    (unless it may trace families)."""
    page = separated_page(conn, principal, site_code, cursor, limit)
    return page_body(page)


@router.get("/{household_id}", response_model=HouseholdPublic, response_model_exclude_unset=True)
def get_household(household_id: str, principal: Reader, conn: ReadConn) -> dict[str, Any]:
    """A household's members, where each one is, and whether it is separated. A site-scoped
    reader that may not trace families sees the members at other sites only counted, in
    ``members_outside_scope``."""
    return read_household(conn, principal, household_id)
