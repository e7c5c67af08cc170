"""Households: members and where each one is; households separated on the way."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from campledger.api.http.deps import ReadConn, require
from campledger.api.http.lists import Cursor, Limit, page_body, within
from campledger.api.schemas import Page
from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import ApiProblem, bad_query
from campledger.projections import households

router = APIRouter(prefix="/households", tags=["households"])

Reader = Annotated[Principal, Depends(require(Permission.HOUSEHOLDS_READ))]


@router.get("/separated", response_model=Page[dict[str, Any]])
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
    if site_code is not None:
        check_scope(principal, site_code)
    with bad_query():
        page = households.separated_households(
            conn,
            site_code,
            after=cursor,
            limit=limit,
            within=within(principal),
            visible_sites=_visible_sites(principal),
        )
    return page_body(page)


@router.get("/{household_id}")
def get_household(household_id: str, principal: Reader, conn: ReadConn) -> dict[str, Any]:
    """A household's members, where each one is, and whether it is separated. A site-scoped
    reader that may not trace families sees the members at other sites only counted, in
    ``members_outside_scope``."""
    found = households.household(conn, household_id)
    if found is None:
        raise ApiProblem(
            404, "household-not-found", "Household not found", "no household with that id"
        )
    check_scope(principal, *(found.get("sites") or [None]))
    visible = _visible_sites(principal)
    return found if visible is None else households.within_sites(found, visible)


def _visible_sites(principal: Principal) -> frozenset[str] | None:
    """The sites whose household members this reader may see identified (None: all).

    A household id can be typed at any site, so a family's members elsewhere are
    identified only to roles allowed to trace families across sites.
    """
    if not principal.scoped or principal.can(Permission.FAMILY_TRACING):
        return None
    return principal.sites
