"""Stays: each person's history of where they were and in what status, in field time.

A stay is (person, site, status, period) with ``period`` a '[)' range of OCCURRED
time. Every change of site or status closes the open stay at the event's
``occurred_at`` and opens the next one. In transit and unaccounted stays have no
site and carry the transfer id.

Decisions:
- Departure and merge close the last place and open a final stay with status
  ``departed`` / ``merged`` and no site, open forever: "where was this person on
  day X" then answers "departed" rather than "never heard of them".
- Two changes at the same instant would leave a zero-length stay; it is deleted, so
  the later event wins that instant. A hold and release at the same instant may
  therefore leave two adjacent stays with the same site and status: harmless to
  every query, which asks for the stay containing an instant.
- Events that change nothing about where a person is (a manifest, a correction, a
  'cleared' screening) record nothing.

As-of queries use occurred time: an offline device's late sync rewrites the past
it describes, which is what a roster "as of Tuesday" should show.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Cursor, sql
from psycopg.types.range import Range

from campledger.domain.model.person import Person
from campledger.domain.model.values import PersonStatus
from campledger.projections import paging
from campledger.projections.folds import copy_rows
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, handles
from campledger.projections.rows import rows_of

_ON_SITE = [PersonStatus.PRESENT.value, PersonStatus.HELD.value]

# One statement per change, with no read-back in the handler: the open stay is closed
# (or dropped when it would be empty), and the new one inserted, only if something
# actually changed. Data-modifying CTEs see the same snapshot, so the three parts
# cannot see each other's writes; they touch disjoint rows by construction.
_MOVE = """
WITH open_stay AS (
    SELECT seq, lower(period) AS since FROM {schema}.stays
    WHERE person_id = %(id)s AND upper_inf(period)
      AND (site_code, status, transfer_id)
          IS DISTINCT FROM (%(site)s::text, %(status)s::text, %(transfer)s::uuid)
), closed AS (
    UPDATE {schema}.stays s SET period = tstzrange(o.since, %(at)s, '[)'),
        closed_position = %(position)s
    FROM open_stay o
    WHERE s.person_id = %(id)s AND s.seq = o.seq AND o.since < %(at)s
), dropped AS (
    DELETE FROM {schema}.stays s USING open_stay o
    WHERE s.person_id = %(id)s AND s.seq = o.seq AND o.since >= %(at)s
)
INSERT INTO {schema}.stays
    (person_id, seq, site_code, status, transfer_id, period, opened_position)
SELECT %(id)s, %(seq)s, %(site)s, %(status)s, %(transfer)s,
    tstzrange(%(at)s, NULL, '[)'), %(position)s
FROM open_stay
"""


class Stays(ReadModel):
    name = "stays"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.stays (
            person_id uuid NOT NULL,
            seq integer NOT NULL,  -- the person's version that opened the stay
            site_code text,
            status text NOT NULL,
            transfer_id uuid,
            period tstzrange NOT NULL,
            opened_position bigint NOT NULL,
            closed_position bigint,
            PRIMARY KEY (person_id, seq)
        )
        """,
        "CREATE INDEX IF NOT EXISTS stays_period ON {schema}.stays USING gist (period)",
        "CREATE INDEX IF NOT EXISTS stays_site ON {schema}.stays (site_code, person_id) "
        "WHERE site_code IS NOT NULL",
    )

    def _move(
        self,
        cur: Cursor[Any],
        envelope: Envelope,
        site: str | None,
        status: PersonStatus,
        transfer: UUID | None = None,
    ) -> None:
        self.run(
            cur,
            _MOVE,
            {
                "id": envelope.originator_id,
                "seq": envelope.originator_version,
                "site": site,
                "status": status.value,
                "transfer": transfer,
                "at": envelope.event.occurred_at,
                "position": envelope.position,
            },
        )

    @handles(Person.Registered)
    def registered(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self.run(
            cur,
            "INSERT INTO {schema}.stays (person_id, seq, site_code, status, period, "
            "opened_position) VALUES (%s, %s, %s, %s, tstzrange(%s, NULL, '[)'), %s) "
            "ON CONFLICT DO NOTHING",
            (
                envelope.originator_id,
                envelope.originator_version,
                e.site_code,
                PersonStatus.PRESENT.value,
                e.occurred_at,
                envelope.position,
            ),
        )

    @handles(Person.ScreeningStepRecorded)
    def screened(self, cur: Cursor[Any], envelope: Envelope) -> None:
        if envelope.event.outcome == "held":
            self._move(cur, envelope, envelope.event.site_code, PersonStatus.HELD)

    @handles(Person.Held)
    def held(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._move(cur, envelope, envelope.event.site_code, PersonStatus.HELD)

    @handles(Person.Released)
    def released(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._move(cur, envelope, envelope.event.site_code, PersonStatus.PRESENT)

    @handles(Person.TransferDispatched)
    def dispatched(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self._move(cur, envelope, None, PersonStatus.IN_TRANSIT, e.transfer_id)

    @handles(Person.MarkedUnaccountedFor)
    def unaccounted(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self._move(cur, envelope, None, PersonStatus.UNACCOUNTED, e.transfer_id)

    @handles(Person.TransferReceived)
    def received(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        status = PersonStatus.HELD if e.in_custody else PersonStatus.PRESENT
        self._move(cur, envelope, e.site_code, status)

    @handles(Person.Departed)
    def departed(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._move(cur, envelope, None, PersonStatus.DEPARTED)

    @handles(Person.MergedInto)
    def merged(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._move(cur, envelope, None, PersonStatus.MERGED)

    def fold(self) -> StaysFold:
        return StaysFold(self)


# Where each event puts its person: (site, status, transfer), or None for no move.
_MOVES: dict[type, Callable[[Any], tuple[str | None, PersonStatus, UUID | None] | None]] = {
    Person.ScreeningStepRecorded: lambda e: (
        (e.site_code, PersonStatus.HELD, None) if e.outcome == "held" else None
    ),
    Person.Held: lambda e: (e.site_code, PersonStatus.HELD, None),
    Person.Released: lambda e: (e.site_code, PersonStatus.PRESENT, None),
    Person.TransferDispatched: lambda e: (None, PersonStatus.IN_TRANSIT, e.transfer_id),
    Person.MarkedUnaccountedFor: lambda e: (None, PersonStatus.UNACCOUNTED, e.transfer_id),
    Person.TransferReceived: lambda e: (
        e.site_code,
        PersonStatus.HELD if e.in_custody else PersonStatus.PRESENT,
        None,
    ),
    Person.Departed: lambda e: (None, PersonStatus.DEPARTED, None),
    Person.MergedInto: lambda e: (None, PersonStatus.MERGED, None),
}
_COLUMNS = (
    "person_id", "seq", "site_code", "status", "transfer_id", "period", "opened_position",
    "closed_position",
)  # fmt: skip


class StaysFold:
    """The stays folded in memory for a rebuild (``projections/folds.py``): each person's
    stays, opened, closed and dropped as ``_MOVE`` does, written once with COPY."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        # Per person, by seq: [site, status, transfer, since, until, opened, closed].
        self.stays: dict[UUID, dict[int, list[Any]]] = {}

    def apply(self, envelope: Envelope) -> None:
        event = envelope.event
        person = self.stays.setdefault(envelope.originator_id, {})
        seq, at, position = envelope.originator_version, event.occurred_at, envelope.position
        if isinstance(event, Person.Registered):
            # ON CONFLICT DO NOTHING
            person.setdefault(seq, [event.site_code, "present", None, at, None, position, None])
            return
        moving = _MOVES.get(type(event))
        place = moving(event) if moving is not None else None
        if place is None:
            return
        site, status, transfer = place
        open_seq = next((s for s, stay in person.items() if stay[4] is None), None)
        if open_seq is None or tuple(person[open_seq][:3]) == (site, status.value, transfer):
            return  # nothing open, or nothing changes
        if seq in person and seq != open_seq:
            raise ValueError("a stay already opened at this version")  # as the primary key
        stay = person[open_seq]
        if stay[3] < at:
            stay[4], stay[6] = at, position
        else:
            del person[open_seq]  # it would be empty: the later event wins the instant
        person[seq] = [site, status.value, transfer, at, None, position, None]

    def write(self, cur: Cursor[Any]) -> None:
        rows = (
            (person_id, seq, site, status, transfer, Range(since, until, "[)"), opened, closed)
            for person_id, stays in self.stays.items()
            for seq, (site, status, transfer, since, until, opened, closed) in stays.items()
        )
        copy_rows(cur, self.model, "stays", _COLUMNS, rows)


# --- queries ------------------------------------------------------------------------------


def _table() -> sql.Identifier:
    return sql.Identifier(Stays.live_schema(), "stays")


def roster_as_of(
    conn: psycopg.Connection[Any],
    site_code: str,
    at: datetime,
    *,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """Who was at a site (present or held) at an instant of field time, by person id.

    ``after`` is the previous page's ``next_cursor``.
    """
    if at.tzinfo is None:
        raise ValueError("'at' must include a time zone")
    paging.check_limit(limit)
    query = sql.SQL(
        "SELECT person_id, status FROM {} WHERE site_code = %s AND period @> %s::timestamptz "
        "AND status = ANY(%s) AND person_id > %s ORDER BY person_id LIMIT %s"
    ).format(_table())
    start = UUID(int=0) if after is None else paging.decode_cursor(_AS_OF, after, _AS_OF_KEY)[0]
    rows = rows_of(conn, query, (site_code, at, _ON_SITE, start, limit + 1))
    return paging.page_of(_AS_OF, rows, limit, lambda row: (row["person_id"],))


_AS_OF = "as-of roster"
_AS_OF_KEY = (paging.ID,)


def whereabouts(
    conn: psycopg.Connection[Any], person_id: UUID, at: datetime
) -> tuple[str | None, str] | None:
    """(site_code, status) of a person at an instant of field time; None before registration."""
    if at.tzinfo is None:
        raise ValueError("'at' must include a time zone")
    query = sql.SQL(
        "SELECT site_code, status FROM {} WHERE person_id = %s AND period @> %s::timestamptz "
        "ORDER BY seq DESC LIMIT 1"
    ).format(_table())
    row = conn.execute(query, (person_id, at)).fetchone()
    return None if row is None else (row[0], row[1])


def person_stays(conn: psycopg.Connection[Any], person_id: UUID) -> list[dict[str, Any]]:
    """A person's whole history of stays, oldest first (``until`` None for the open one)."""
    query = sql.SQL(
        "SELECT site_code, status, transfer_id, lower(period) AS since, upper(period) AS until "
        "FROM {} WHERE person_id = %s ORDER BY lower(period), seq"
    ).format(_table())
    return rows_of(conn, query, (person_id,))
