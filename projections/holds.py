"""The holds register: everyone held now, where, since when and on whose order.

One row per person held now. A hold starts with a ``held`` screening outcome or a hold,
and ends with a release, a departure or a merge; in between it follows the person:
at a site, in transit on a custody transfer, received at the destination (still held),
or unaccounted for when the transfer was reconciled without them. An unaccounted-for
held person stays on the register on purpose: that is the case the log exists to catch.

``held_since`` is field time (when the hold was decided), so days held count from the
decision, not from when a device synced. A second 'held' screening outcome while held
renews the order (authority, reference, review date) and keeps the start. Nothing here
is personal: persons appear by id; the registration number and, for roles allowed to
see them, the names come from the roster at query time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import Cursor, sql

from campledger.domain.model.person import Person
from campledger.domain.model.values import PersonStatus, ScreeningOutcome
from campledger.projections import paging
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, Rows, handles
from campledger.projections.roster import Roster
from campledger.projections.rows import rows_of

_START = (
    "INSERT INTO {schema}.holds (person_id, status, site_code, held_at_site, held_since, "
    "authority, order_reference, review_date, decided_by, updated_at, position) "
    "VALUES (%(id)s, 'held', %(site)s, %(site)s, %(at)s, %(authority)s, %(order)s, "
    "%(review)s, %(actor)s, %(at)s, %(position)s) "
    # A renewed order while held: the new order, the old start.
    "ON CONFLICT (person_id) DO UPDATE SET authority = EXCLUDED.authority, "
    "order_reference = EXCLUDED.order_reference, review_date = EXCLUDED.review_date, "
    "decided_by = EXCLUDED.decided_by, updated_at = EXCLUDED.updated_at, "
    "position = EXCLUDED.position"
)


class Holds(ReadModel):
    name = "holds"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.holds (
            person_id uuid PRIMARY KEY,
            status text NOT NULL,  -- held (at a site), in_transit or unaccounted
            site_code text,  -- where the person is; NULL in transit or unaccounted for
            held_at_site text NOT NULL,  -- where the hold was decided
            transfer_id uuid,  -- the custody transfer, while on one
            origin text,
            destination text,
            held_since timestamptz NOT NULL,
            authority text NOT NULL,
            order_reference text NOT NULL,
            review_date date,
            decided_by text NOT NULL,
            updated_at timestamptz NOT NULL,
            position bigint NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS holds_page ON {schema}.holds (held_since, person_id)",
        "CREATE INDEX IF NOT EXISTS holds_site ON {schema}.holds (site_code)",
        "CREATE INDEX IF NOT EXISTS holds_review ON {schema}.holds (review_date)",
    )

    # A row exists only while held: events of persons not held update nothing.
    rows = Rows(
        "holds",
        "person_id",
        stamps="updated_at = %(at)s, position = %(position)s",
        updates={Person.MarkedUnaccountedFor: "status = 'unaccounted'"},
    )

    def _start(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self.run(
            cur,
            _START,
            {
                "id": envelope.originator_id,
                "site": e.site_code,
                "at": e.occurred_at,
                "authority": e.authority,
                "order": e.order_reference,
                "review": e.review_date,
                "actor": e.actor,
                "position": envelope.position,
            },
        )

    def _end(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.run(cur, "DELETE FROM {schema}.holds WHERE person_id = %s", (envelope.originator_id,))

    @handles(Person.ScreeningStepRecorded)
    def screened(self, cur: Cursor[Any], envelope: Envelope) -> None:
        if envelope.event.outcome == ScreeningOutcome.HELD.value:
            self._start(cur, envelope)

    @handles(Person.Held)
    def held(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._start(cur, envelope)

    @handles(Person.Released, Person.Departed, Person.MergedInto)
    def ended(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._end(cur, envelope)

    @handles(Person.TransferDispatched)
    def dispatched(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self.set(
            cur,
            envelope,
            "status = 'in_transit', site_code = NULL, transfer_id = %(t)s, "
            "origin = %(origin)s, destination = %(destination)s",
            t=e.transfer_id,
            origin=e.origin,
            destination=e.destination,
        )

    @handles(Person.TransferReceived)
    def received(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(
            cur,
            envelope,
            "status = 'held', site_code = %(site)s, transfer_id = NULL, origin = NULL, "
            "destination = NULL",
            site=envelope.event.site_code,
        )


# --- queries ------------------------------------------------------------------------------

_H = sql.Identifier(Holds.live_schema(), "holds")
_R = sql.Identifier(Roster.live_schema(), "roster")
_NAMES = ("given_name", "family_name")


_KIND = "holds"
_KEY = (paging.INSTANT, paging.ID)


def holds_page(
    conn: psycopg.Connection[Any],
    *,
    sites: Sequence[str] | None = None,
    overdue: bool | None = None,
    after: str | None = None,
    limit: int = 100,
    include_personal: bool = False,
    today: date | None = None,
) -> Page:
    """One page of the holds register, longest held first.

    ``sites`` limits it to holds at those sites, or in transit from or to them (None: every
    site). ``overdue`` True lists holds past their review date (before ``today``, default
    today in UTC); False the others. ``after`` is the previous page's ``next_cursor``.
    Each row carries ``days_held`` and ``overdue`` as of ``today``.
    """
    paging.check_limit(limit)
    today = today or datetime.now(UTC).date()
    where: list[sql.Composable] = [sql.SQL("true")]
    params: list[Any] = []
    if sites is not None:
        where.append(
            sql.SQL(
                "(h.site_code = ANY(%s) OR (h.site_code IS NULL AND "
                "(h.origin = ANY(%s) OR h.destination = ANY(%s))))"
            )
        )
        params.extend([list(sites)] * 3)
    if overdue is True:
        where.append(sql.SQL("h.review_date < %s"))
        params.append(today)
    elif overdue is False:
        where.append(sql.SQL("(h.review_date IS NULL OR h.review_date >= %s)"))
        params.append(today)
    if after is not None:
        where.append(sql.SQL("(h.held_since, h.person_id) > (%s, %s)"))
        params.extend(paging.decode_cursor(_KIND, after, _KEY))
    names = sql.SQL(", r.given_name, r.family_name" if include_personal else "")
    query = sql.SQL(
        "SELECT h.person_id, r.registration_number{names}, h.status, h.site_code, "
        "h.held_at_site, h.transfer_id, h.origin, h.destination, h.held_since, h.authority, "
        "h.order_reference, h.review_date, h.decided_by "
        "FROM {h} h LEFT JOIN {r} r USING (person_id) WHERE {where} "
        "ORDER BY h.held_since, h.person_id LIMIT %s"
    ).format(names=names, h=_H, r=_R, where=sql.SQL(" AND ").join(where))
    params.append(limit + 1)
    rows = rows_of(conn, query, params)
    page = paging.page_of(_KIND, rows, limit, lambda row: (row["held_since"], row["person_id"]))
    for row in page.rows:
        held_on = row["held_since"].astimezone(UTC).date()
        row["days_held"] = max(0, (today - held_on).days)
        review = row["review_date"]
        row["overdue"] = review is not None and review < today
    return page


def held_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """How many held persons are at each site now (not those in transit); empty while the
    register has not been created (a projector running other read models only)."""
    found = conn.execute("SELECT to_regclass(%s)", (f"{Holds.live_schema()}.holds",)).fetchone()
    if found is None or found[0] is None:
        return {}
    query = sql.SQL(
        "SELECT site_code, count(*) FROM {} WHERE status = %s GROUP BY site_code"
    ).format(_H)
    return {site: int(n) for site, n in conn.execute(query, (PersonStatus.HELD.value,))}
