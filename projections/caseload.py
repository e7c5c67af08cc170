"""Who is at each site, by nationality and by household: read from the roster.

The same people as ``occupancy`` counts (status present or held, at a site), grouped the
way partners report a caseload: per nationality (the ISO 3166 alpha-3 code recorded at
registration) and per household. Aggregates only: no row here is about a person.
"""

from __future__ import annotations

from typing import Any

import psycopg

from campledger.projections.roster import Roster
from campledger.projections.rows import rows_of

_AT_A_SITE = "site_code IS NOT NULL AND status IN ('present', 'held')"


def nationality_counts(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """``site_code``, ``nationality``, ``count``: one row per nationality present at a site."""
    return rows_of(
        conn,
        "SELECT site_code, nationality, count(*)::integer AS count "
        f"FROM {Roster.live_schema()}.roster WHERE {_AT_A_SITE} "
        "GROUP BY site_code, nationality ORDER BY site_code, nationality",
    )


def household_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Per site, the households with at least one member there (people registered without
    a household id are not a household here)."""
    rows = rows_of(
        conn,
        "SELECT site_code, count(DISTINCT household_id)::integer AS households "
        f"FROM {Roster.live_schema()}.roster WHERE {_AT_A_SITE} GROUP BY site_code",
    )
    return {r["site_code"]: r["households"] for r in rows}
