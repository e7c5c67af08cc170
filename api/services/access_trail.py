"""The access trail: who read which person's personal data, when, and through what.

Append-only, like the event log: ``campledger db secure`` refuses UPDATE, DELETE and
TRUNCATE on it for everyone and gives the application role SELECT and INSERT only. It is
not an event stream on purpose: a read is not a change to the person, and recording reads
as events would put every lookup on the command side's insert lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from campledger.projections import paging
from campledger.projections.paging import Page


@dataclass(frozen=True, slots=True)
class AccessEntry:
    id: int
    accessed_at: datetime
    actor: str
    person_id: UUID
    purpose: str  # the endpoint or command that showed the data, e.g. "GET /persons/{id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accessed_at": self.accessed_at.isoformat(),
            "actor": self.actor,
            "person_id": str(self.person_id),
            "purpose": self.purpose,
        }


# A purpose names an endpoint or a command; longer text is cut, never refused: the read
# it records has already happened.
PURPOSE_MAX = 200


def record_access(conn: psycopg.Connection[Any], actor: str, person_id: UUID, purpose: str) -> int:
    """Record that ``actor`` was shown ``person_id``'s personal data; returns the entry id."""
    _check_actor(actor)
    row = conn.execute(
        "INSERT INTO access_trail (actor, person_id, purpose) VALUES (%s, %s, %s) RETURNING id",
        (actor, person_id, purpose[:PURPOSE_MAX]),
    ).fetchone()
    assert row is not None
    return int(row[0])


def record_accesses(
    conn: psycopg.Connection[Any], actor: str, person_ids: list[UUID], purpose: str
) -> None:
    """Record that ``actor`` was shown the personal data of everyone on a page (one insert)."""
    _check_actor(actor)
    if person_ids:
        conn.execute(
            "INSERT INTO access_trail (actor, person_id, purpose) "
            "SELECT %s, unnest(%s::uuid[]), %s",
            (actor, person_ids, purpose[:PURPOSE_MAX]),
        )


def _check_actor(actor: str) -> None:
    if not actor:
        raise ValueError("an access needs an authenticated actor")


def access_entries(
    conn: psycopg.Connection[Any],
    person_id: UUID | None = None,
    actor: str | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    after: int | None = None,
    limit: int = 100,
) -> list[AccessEntry]:
    """Accesses in order, filtered; page on with ``after`` = the last entry's id."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column, op, value in (
        ("person_id", "=", person_id),
        ("actor", "=", actor),
        ("accessed_at", ">=", from_),
        ("accessed_at", "<", to),
        ("id", ">", after),
    ):
        if value is not None:
            conditions.append(sql.SQL("{} " + op + " %s").format(sql.Identifier(column)))
            params.append(value)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL(
        "SELECT id, accessed_at, actor, person_id, purpose FROM access_trail{} ORDER BY id LIMIT %s"
    ).format(where)
    params.append(max(1, min(limit, 10_000)))
    with conn.cursor(row_factory=class_row(AccessEntry)) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def access_page(
    conn: psycopg.Connection[Any],
    *,
    person_id: UUID | None = None,
    actor: str | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """One page of ``access_entries``, as dicts; ``after`` is the previous next_cursor."""
    paging.check_limit(limit)
    start = paging.decode_cursor(_KIND, after, (paging.INTEGER,))[0] if after else None
    entries = access_entries(
        conn, person_id=person_id, actor=actor, from_=from_, to=to, after=start, limit=limit + 1
    )
    rows = [entry.as_dict() for entry in entries]
    return paging.page_of(_KIND, rows, limit, lambda row: (row["id"],))


_KIND = "access trail"
