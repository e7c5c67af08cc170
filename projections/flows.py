"""Flows: arrivals, transfers in and out, and departures per site per day.

A day is a day of the operation's time zone (``CAMPLEDGER_OPERATION_TIMEZONE``) around
the field time (``occurred_at``): flows describe when people moved, not when a device
synced. The table keeps counts per site per UTC quarter-hour (``slot``) and the day is cut
when it is read: every zone's offset from UTC is a whole number of quarter-hours, so a
zone's midnight always falls on a slot's edge, and choosing another zone takes effect at
the next read, with no rebuild. Only days with movement have rows; a query for a range
returns those days, and a caller wanting every day fills the gaps with zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import Cursor

from campledger.domain.model.person import Person
from campledger.projections import paging
from campledger.projections.folds import copy_rows
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, handles
from campledger.projections.rows import rows_of

COUNTERS = ("arrivals", "transfers_in", "transfers_out", "departures")


class Flows(ReadModel):
    name = "flows"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.slots (
            site_code text NOT NULL,
            slot timestamptz NOT NULL,
            arrivals integer NOT NULL DEFAULT 0,
            transfers_in integer NOT NULL DEFAULT 0,
            transfers_out integer NOT NULL DEFAULT 0,
            departures integer NOT NULL DEFAULT 0,
            PRIMARY KEY (site_code, slot)
        )
        """,
        "CREATE INDEX IF NOT EXISTS slots_by_slot ON {schema}.slots (slot)",
    )

    def _count(self, cur: Cursor[Any], site_code: str, envelope: Envelope, counter: str) -> None:
        assert counter in COUNTERS
        self.run(
            cur,
            f"INSERT INTO {{schema}}.slots AS d (site_code, slot, {counter}) VALUES (%s, %s, 1) "
            f"ON CONFLICT (site_code, slot) DO UPDATE SET {counter} = d.{counter} + 1",
            (site_code, quarter_hour(envelope.event.occurred_at)),
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

    def fold(self) -> FlowsFold:
        return FlowsFold(self)


# Which site and counter each event counts under.
_COUNTED: dict[type, tuple[str, str]] = {
    Person.Registered: ("site_code", "arrivals"),
    Person.TransferDispatched: ("origin", "transfers_out"),
    Person.TransferReceived: ("site_code", "transfers_in"),
    Person.Departed: ("site_code", "departures"),
}


class FlowsFold:
    """The flows folded in memory for a rebuild (``projections/folds.py``): the same
    counts per site and quarter-hour, written once with COPY."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.slots: dict[tuple[str, datetime], dict[str, int]] = {}

    def apply(self, envelope: Envelope) -> None:
        counted = _COUNTED.get(type(envelope.event))
        if counted is None:
            return
        site_attribute, counter = counted
        key = (getattr(envelope.event, site_attribute), quarter_hour(envelope.event.occurred_at))
        slot = self.slots.setdefault(key, dict.fromkeys(COUNTERS, 0))
        slot[counter] += 1

    def write(self, cur: Cursor[Any]) -> None:
        rows = ((*key, *(slot[c] for c in COUNTERS)) for key, slot in self.slots.items())
        copy_rows(cur, self.model, "slots", ("site_code", "slot", *COUNTERS), rows)


def quarter_hour(moment: datetime) -> datetime:
    """The UTC quarter-hour ``moment`` falls in."""
    utc = moment.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def _bounds(start: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """From the first day's midnight to the midnight after the last day, in ``zone``."""
    if end < start:
        raise ValueError("the end of the range is before its start")
    tz = ZoneInfo(zone)
    return (
        datetime.combine(start, time(), tz).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC),
    )


# Slots summed into days of the zone; %(zone)s, %(since)s and %(until)s are the caller's.
_DAYS = (
    "SELECT site_code, (slot AT TIME ZONE %(zone)s)::date AS day, "
    "sum(arrivals)::integer AS arrivals, sum(transfers_in)::integer AS transfers_in, "
    "sum(transfers_out)::integer AS transfers_out, sum(departures)::integer AS departures "
    f"FROM {Flows.live_schema()}.slots "
    "WHERE slot >= %(since)s AND slot < %(until)s "
    "AND (%(site)s::text IS NULL OR site_code = %(site)s) "
    "GROUP BY site_code, day"
)


def daily_flows(
    conn: psycopg.Connection[Any],
    site_code: str | None,
    start: date,
    end: date,
    *,
    zone: str = "UTC",
) -> list[dict[str, Any]]:
    """Movement per site per day from ``start`` to ``end`` inclusive (days with movement
    only), the days being those of the time zone ``zone``."""
    since, until = _bounds(start, end, zone)
    return rows_of(
        conn,
        f"SELECT * FROM ({_DAYS}) AS d ORDER BY day, site_code",
        {"zone": zone, "since": since, "until": until, "site": site_code},
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
    zone: str = "UTC",
) -> Page:
    """One page of ``daily_flows`` (by day, then site); with ``within``, only those sites.
    ``after`` is the previous page's ``next_cursor``."""
    since, until = _bounds(start, end, zone)
    paging.check_limit(limit)
    day, site = paging.decode_cursor(_KIND, after, _KEY) if after else (None, None)
    rows = rows_of(
        conn,
        f"SELECT * FROM ({_DAYS}) AS d "
        "WHERE (%(within)s::text[] IS NULL OR site_code = ANY(%(within)s::text[])) "
        "AND (%(day)s::date IS NULL OR (day, site_code) > (%(day)s, %(after)s)) "
        "ORDER BY day, site_code LIMIT %(limit)s",
        {
            "zone": zone,
            "since": since,
            "until": until,
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
