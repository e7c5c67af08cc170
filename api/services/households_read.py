"""Households as every way in reads them, under the family-tracing rule: a site-scoped
reader that may not trace families sees a family's members at other sites only counted
(``docs/security.md``)."""

from __future__ import annotations

from typing import Any

import psycopg

from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query, not_found
from campledger.api.services.scoping import within
from campledger.projections import households
from campledger.projections.paging import Page


def visible_sites(principal: Principal) -> frozenset[str] | None:
    """The sites whose household members this reader may see identified (None: all).

    A household id can be typed at any site, so a family's members elsewhere are
    identified only to roles allowed to trace families across sites.
    """
    if not principal.scoped or principal.can(Permission.FAMILY_TRACING):
        return None
    return principal.sites


def separated_page(
    conn: psycopg.Connection[Any],
    principal: Principal,
    site_code: str | None,
    cursor: str | None,
    limit: int,
) -> Page:
    """Separated households with a member at the reader's sites, listing only the sites
    the reader may see."""
    if site_code is not None:
        check_scope(principal, site_code)
    with bad_query():
        return households.separated_households(
            conn,
            site_code,
            after=cursor,
            limit=limit,
            within=within(principal),
            visible_sites=visible_sites(principal),
        )


def read_household(
    conn: psycopg.Connection[Any], principal: Principal, household_id: str
) -> dict[str, Any]:
    """A household's members and where each one is, as this reader may see them."""
    found = households.household(conn, household_id)
    if found is None:
        raise not_found("household", "no household with that id")
    check_scope(principal, *(found.get("sites") or [None]))
    visible = visible_sites(principal)
    return found if visible is None else households.within_sites(found, visible)
