"""Likely duplicates as a reviewer reads them, whichever way in: the pairs its scope
covers and, for a role that may see personal data, the two names side by side.

A site-scoped reviewer sees only the pairs whose two records are both at its sites: a
merge and a dismissal need scope on both, so a pair straddling another site is a
decision for a coordinator whose scope covers both, and listing it would hand out the
other site's ids and registration numbers (and a page cursor made of them) to a reviewer
who can do nothing with them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from campledger.api.services.access import check_scope
from campledger.api.services.access_trail import record_accesses
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query
from campledger.api.services.scoping import within
from campledger.projections import duplicates, roster
from campledger.projections.paging import Page
from campledger.projections.rows import rows_of


def candidates_page(
    conn: psycopg.Connection[Any],
    principal: Principal,
    site_code: str | None,
    after: str | None,
    limit: int,
) -> Page:
    """Pairs that may be one person, highest score first; with ``site_code``, pairs with
    a record at (or last at) that site; only pairs whose two records ``principal``
    covers."""
    if site_code is not None:
        check_scope(principal, site_code)
    sites = [site_code] if site_code is not None else None
    with bad_query():
        return duplicates.candidates_page(
            conn, sites, within=within(principal), after=after, limit=limit
        )


def with_names(
    conn: psycopg.Connection[Any], principal: Principal, pairs: list[dict[str, Any]], purpose: str
) -> list[dict[str, Any]]:
    """The pairs with each record's names (``person_names``, ``other_names``) for a role
    that may see personal data, every record shown put on the access trail under
    ``purpose``; without ``persons:personal``, the pairs as they are."""
    if not principal.can(Permission.PERSONAL_DATA) or not pairs:
        return pairs
    shown: list[UUID] = []
    named = []
    for pair in pairs:
        names = {}
        for side in ("person", "other"):
            person_id = UUID(str(pair[f"{side}_id"]))
            row = roster.get_person_row(conn, person_id, include_personal=True)
            names[f"{side}_names"] = _names(row)
            if row is not None:
                shown.append(person_id)
        named.append({**pair, **names})
    record_accesses(conn, principal.actor, list(dict.fromkeys(shown)), purpose)
    return named


def _names(row: dict[str, Any] | None) -> dict[str, str | None]:
    fields = ("given_name", "family_name", "given_name_latin", "family_name_latin")
    return {field: (row or {}).get(field) for field in fields}


# The pairs either of these records is in (``duplicates.pairs_query``).
_WITH_ANY_OF = """
WHERE c.person_id = ANY(%(ids)s::uuid[]) OR c.other_id = ANY(%(ids)s::uuid[])
ORDER BY c.score DESC, c.person_id, c.other_id
"""


def pairs_with(
    conn: psycopg.Connection[Any], principal: Principal, person_ids: list[UUID]
) -> list[dict[str, Any]]:
    """The likely duplicates of these records (new ones, just registered), each pair as
    ``new`` (one of them) and ``other``; the other record's registration number only where
    ``principal``'s sites reach it. For those who registered them: no names, and nothing
    to decide (the review is a reviewer's)."""
    if not person_ids:
        return []
    query = duplicates.pairs_query(_WITH_ANY_OF)
    new = set(person_ids)
    found = []
    for row in rows_of(conn, query, {"ids": person_ids}):
        mine, theirs = ("person", "other") if row["person_id"] in new else ("other", "person")
        other_site = row[f"{theirs}_site_code"]
        reached = principal.covers_any([other_site])
        found.append(
            {
                "person_id": row[f"{mine}_id"],
                "registration_number": row[f"{mine}_registration_number"],
                "other_id": row[f"{theirs}_id"] if reached else None,
                "other_registration_number": (
                    row[f"{theirs}_registration_number"] if reached else None
                ),
                "other_site_code": other_site if reached else None,
                "score": row["points"] / 1000,
            }
        )
    return found
