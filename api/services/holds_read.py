"""The holds register as every way in reads it: the reader's site scope, names only for
roles that may read personal data, and each name shown put on the access trail."""

from __future__ import annotations

from typing import Any

import psycopg

from campledger.api.services.access import check_scope
from campledger.api.services.access_trail import record_accesses
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query
from campledger.api.services.scoping import within
from campledger.projections import holds
from campledger.projections.paging import Page


def holds_register_page(
    conn: psycopg.Connection[Any],
    principal: Principal,
    *,
    site: str | None,
    overdue: bool | None,
    cursor: str | None,
    limit: int,
    purpose: str,
) -> Page:
    """One page of the holds register as this reader may see it; ``purpose`` names the
    read on the access trail (the API's route, or the console's page)."""
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
        record_accesses(conn, principal.actor, [r["person_id"] for r in page.rows], purpose)
    return page
