"""Flows: arrivals, transfers in and out, and departures per site per day.

A day is the UTC date of the field time (``occurred_at``): flows describe when people
moved, not when a device synced. Only days with movement have rows; a query for a
range returns those days, and a caller wanting every day fills the gaps with zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date
from typing import Any

import psycopg
from psycopg import Cursor

from campledger.domain.model.person import Person
from campledger.projections import paging
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, handles
from campledger.projections.rows import rows_of

COUNTERS = ("arrivals", "transfers_in", "transfers_out", "departures")


class Flows(ReadModel):
    name = "flows"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.daily (
            site_code text NOT NULL,
            day date NOT NULL,
            arrivals integer NOT NULL DEFAULT 0,
            transfers_in integer NOT NULL DEFAULT 0,
            transfers_out integer NOT NULL DEFAULT 0,
            departures integer NOT NULL DEFAULT 0,
            PRIMARY KEY (site_code, day)
        )
        """,
        "CREATE INDEX IF NOT EXISTS daily_by_day ON {schema}.daily (day)",
    )

    def _count(self, cur: Cursor[Any], site_code: str, envelope: Envelope, counter: str) -> None:
        assert counter in COUNTERS
        day = envelope.event.occurred_at.astimezone(UTC).date()
        self.run(
            cur,
            f"INSERT INTO {{schema}}.daily AS d (site_code, day, {counter}) VALUES (%s, %s, 1) "
            f"ON CONFLICT (site_code, day) DO UPDATE SET {counter} = d.{counter} + 1",
            (site_code, day),
        )

    @handles(Person.Registered)
    def registered(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._count(cur, envelope.event.site_code, envelope, "arrivals")

    @handles(Person.TransferDispatched)
    def dispatched(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._count(cur, envelope.event.origin, envelope, "transfers_out")

    @handles(Person.TransferReceived)
    def received(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._count(cur, envelope.event.site_code, envelope, "transfers_in")

    @handles(Person.Departed)
    def departed(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._count(cur, envelope.event.site_code, envelope, "departures")


def daily_flows(
    conn: psycopg.Connection[Any], site_code: str | None, start: date, end: date
) -> list[dict[str, Any]]:
    """Movement per site per day from ``start`` to ``end`` inclusive (days with movement only)."""
    if end < start:
        raise ValueError("the end of the range is before its start")
    return rows_of(
        conn,
        "SELECT site_code, day, arrivals, transfers_in, transfers_out, departures "
        f"FROM {Flows.live_schema()}.daily "
        "WHERE day BETWEEN %s AND %s AND (%s::text IS NULL OR site_code = %s) "
        "ORDER BY day, site_code",
        (start, end, site_code, site_code),
    )


def flows_page(
    conn: psycopg.Connection[Any],
    site_code: str | None,
    start: date,
    end: date,
    *,
    within: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """One page of ``daily_flows`` (by day, then site); with ``within``, only those sites.
    ``after`` is the previous page's ``next_cursor``."""
    if end < start:
        raise ValueError("the end of the range is before its start")
    paging.check_limit(limit)
    day, site = paging.decode_cursor(_KIND, after, _KEY) if after else (None, None)
    rows = rows_of(
        conn,
        "SELECT site_code, day, arrivals, transfers_in, transfers_out, departures "
        f"FROM {Flows.live_schema()}.daily "
        "WHERE day BETWEEN %(start)s AND %(end)s "
        "AND (%(site)s::text IS NULL OR site_code = %(site)s) "
        "AND (%(within)s::text[] IS NULL OR site_code = ANY(%(within)s::text[])) "
        "AND (%(day)s::date IS NULL OR (day, site_code) > (%(day)s, %(after)s)) "
        "ORDER BY day, site_code LIMIT %(limit)s",
        {
            "start": start,
            "end": end,
            "site": site_code,
            "within": list(within) if within is not None else None,
            "day": day,
            "after": site,
            "limit": limit + 1,
        },
    )
    return paging.page_of(_KIND, rows, limit, lambda row: (row["day"], row["site_code"]))


_KIND = "flows"
_KEY = (paging.DAY, paging.TEXT)
