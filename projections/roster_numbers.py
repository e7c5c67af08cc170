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


def person_numbered(conn: psycopg.Connection[Any], number: str) -> UUID | None:
    """The one person the roster knows by this registration number, erased ones included
    (an erasure gives up the number's claim, but the card the person holds still bears it);
    None if none, if several (a number given up and taken again: then ask for the id), or
    if the roster is not projected yet."""
    query = sql.SQL("SELECT person_id FROM {} WHERE registration_number = %s LIMIT 2").format(
        sql.Identifier(Roster.live_schema(), "roster")
    )
    try:
        found = rows_of(conn, query, (number,))
    except psycopg.errors.UndefinedTable:
        return None
    return UUID(str(found[0]["person_id"])) if len(found) == 1 else None


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
