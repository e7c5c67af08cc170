"""Finding people on the roster by registration number: an identifier, not personal data
(every reader of a roster may see it), and the only one an erased person keeps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from campledger.projections.roster import Roster
from campledger.projections.rows import rows_of


def erased_person_numbered(conn: psycopg.Connection[Any], number: str) -> UUID | None:
    """The erased person who had this registration number (an erasure gives up the
    number's claim, so only the roster still knows it); the latest if it was reused."""
    query = sql.SQL(
        "SELECT person_id FROM {} WHERE registration_number = %s AND erased "
        "ORDER BY registered_at DESC LIMIT 1"
    ).format(sql.Identifier(Roster.live_schema(), "roster"))
    try:
        row = conn.execute(query, (number,)).fetchone()
    except psycopg.errors.UndefinedTable:
        return None  # not projected yet: nobody to find there
    return None if row is None else UUID(str(row[0]))


def registration_numbers(
    conn: psycopg.Connection[Any], person_ids: Sequence[UUID]
) -> dict[UUID, str | None]:
    """The registration number each of these persons has now (an identifier, not personal
    data: every reader of a roster may see it)."""
    query = sql.SQL(
        "SELECT person_id, registration_number FROM {} WHERE person_id = ANY(%s)"
    ).format(sql.Identifier(Roster.live_schema(), "roster"))
    return {
        r["person_id"]: r["registration_number"] for r in rows_of(conn, query, (list(person_ids),))
    }
