"""Transfers: each movement's state and manifest, and who went missing on the way.

One row per transfer and one per person on its manifest. A manifest row follows the
person through the transfer: ``planned`` → ``in_transit`` → ``received``, or
``unaccounted`` when the transfer is reconciled without them (a late check-in on
a reconciled transfer turns it back into ``received``), or ``cancelled`` /
``removed`` when they never left. ``in_custody`` marks who travels held (a custody
transfer to a holding facility or a hospital). Nothing here is personal: persons appear by id
and registration number only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Cursor, sql

from campledger.domain.model.person import Person
from campledger.domain.model.transfer import Transfer
from campledger.projections import paging
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, Rows, handles
from campledger.projections.roster import Roster
from campledger.projections.rows import rows_of


class Transfers(ReadModel):
    name = "transfers"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.transfers (
            transfer_id uuid PRIMARY KEY,
            origin text NOT NULL,
            destination text NOT NULL,
            state text NOT NULL,
            vehicle text NOT NULL,
            order_reference text NOT NULL,
            planned_at timestamptz NOT NULL,
            dispatched_at timestamptz,
            reconciled_at timestamptz,
            cancelled_at timestamptz,
            planned_by text NOT NULL,
            manifest_count integer NOT NULL,
            custody_count integer NOT NULL DEFAULT 0,
            received_count integer NOT NULL DEFAULT 0,
            unaccounted_count integer NOT NULL DEFAULT 0,
            position bigint NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS transfers_in_transit ON {schema}.transfers (dispatched_at) "
        "WHERE state = 'dispatched'",
        """
        CREATE TABLE IF NOT EXISTS {schema}.manifest (
            transfer_id uuid NOT NULL,
            person_id uuid NOT NULL,
            line integer NOT NULL,
            status text NOT NULL,
            in_custody boolean NOT NULL DEFAULT false,
            received_at timestamptz,
            received_by text,
            PRIMARY KEY (transfer_id, person_id)
        )
        """,
        "CREATE INDEX IF NOT EXISTS manifest_unaccounted ON {schema}.manifest (transfer_id) "
        "WHERE status = 'unaccounted'",
        "CREATE INDEX IF NOT EXISTS manifest_person ON {schema}.manifest (person_id)",
    )

    rows = Rows("transfers", "transfer_id")

    def _mark(
        self, cur: Cursor[Any], transfer_id: UUID, persons: list[UUID], status: str, **extra: Any
    ) -> None:
        self.run(
            cur,
            "UPDATE {schema}.manifest SET status = %(status)s, "
            "received_at = COALESCE(%(at)s, received_at), "
            "received_by = COALESCE(%(by)s, received_by) "
            "WHERE transfer_id = %(id)s AND person_id = ANY(%(persons)s)",
            {
                "id": transfer_id,
                "persons": persons,
                "status": status,
                "at": extra.get("at"),
                "by": extra.get("by"),
            },
        )

    @handles(Transfer.Planned)
    def planned(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self.run(
            cur,
            "INSERT INTO {schema}.transfers (transfer_id, origin, destination, state, vehicle, "
            "order_reference, planned_at, planned_by, manifest_count, custody_count, position) "
            "VALUES (%s, %s, %s, 'planned', %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (transfer_id) DO NOTHING",
            (
                envelope.originator_id,
                e.origin,
                e.destination,
                e.vehicle,
                e.order_reference,
                e.occurred_at,
                e.actor,
                len(e.manifest),
                len(e.custody),
                envelope.position,
            ),
        )
        self.run(
            cur,
            "INSERT INTO {schema}.manifest (transfer_id, person_id, line, status, in_custody) "
            "SELECT %s, person_id, line, 'planned', person_id = ANY(%s::uuid[]) "
            "FROM unnest(%s::uuid[]) WITH ORDINALITY AS m(person_id, line) "
            "ON CONFLICT DO NOTHING",
            (envelope.originator_id, list(e.custody), list(e.manifest)),
        )

    @handles(Transfer.Dispatched)
    def dispatched(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(cur, envelope, "state = 'dispatched', dispatched_at = %(at)s")
        self.run(
            cur,
            "UPDATE {schema}.manifest SET status = 'in_transit' "
            "WHERE transfer_id = %s AND status = 'planned'",
            (envelope.originator_id,),
        )

    @handles(Transfer.Received)
    def received(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        persons = list(e.persons)
        self._mark(cur, envelope.originator_id, persons, "received",
                   at=e.occurred_at, by=e.actor)  # fmt: skip
        self._recount(cur, envelope)

    @handles(Transfer.Reconciled)
    def reconciled(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self._mark(cur, envelope.originator_id, list(e.unaccounted_for), "unaccounted")
        self.set(cur, envelope, "state = 'reconciled', reconciled_at = %(at)s")
        self._recount(cur, envelope)

    @handles(Transfer.Cancelled)
    def cancelled(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(cur, envelope, "state = 'cancelled', cancelled_at = %(at)s")
        self.run(
            cur,
            "UPDATE {schema}.manifest SET status = 'cancelled' "
            "WHERE transfer_id = %s AND status = 'planned'",
            (envelope.originator_id,),
        )

    @handles(Person.RemovedFromManifest)
    def removed(self, cur: Cursor[Any], envelope: Envelope) -> None:
        # A cancelled transfer frees its whole manifest (already marked 'cancelled');
        # a person taken off a still-planned transfer shows as 'removed'.
        self.run(
            cur,
            "UPDATE {schema}.manifest SET status = 'removed' "
            "WHERE transfer_id = %s AND person_id = %s AND status = 'planned'",
            (envelope.event.transfer_id, envelope.originator_id),
        )

    def _recount(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(
            cur,
            envelope,
            "received_count = (SELECT count(*) FROM {schema}.manifest m "
            "WHERE m.transfer_id = %(id)s AND m.status = 'received'), "
            "unaccounted_count = (SELECT count(*) FROM {schema}.manifest m "
            "WHERE m.transfer_id = %(id)s AND m.status = 'unaccounted')",
        )


# --- queries ------------------------------------------------------------------------------

_T = sql.Identifier(Transfers.live_schema(), "transfers")
_M = sql.Identifier(Transfers.live_schema(), "manifest")
_R = sql.Identifier(Roster.live_schema(), "roster")


def get_transfer(conn: psycopg.Connection[Any], transfer_id: UUID) -> dict[str, Any] | None:
    """A transfer with its manifest (in manifest order), or None if there is none."""
    found = rows_of(conn, sql.SQL("SELECT * FROM {} WHERE transfer_id = %s").format(_T),
                   (transfer_id,))  # fmt: skip
    if not found:
        return None
    transfer: dict[str, Any] = found[0]
    transfer.pop("position", None)
    transfer["manifest"] = rows_of(
        conn,
        sql.SQL(
            "SELECT m.person_id, r.registration_number, m.status, m.in_custody, "
            "m.received_at, m.received_by FROM {} m LEFT JOIN {} r USING (person_id) "
            "WHERE m.transfer_id = %s ORDER BY m.line"
        ).format(_M, _R),
        (transfer_id,),
    )
    return transfer


def manifest_names(conn: psycopg.Connection[Any], transfer_id: UUID) -> dict[UUID, dict[str, Any]]:
    """The names of everyone on a transfer's manifest, by person id (personal data: only
    for readers who may see it, each put on the access trail by the caller)."""
    query = sql.SQL(
        "SELECT m.person_id, r.family_name, r.given_name FROM {} m "
        "JOIN {} r USING (person_id) WHERE m.transfer_id = %s"
    ).format(_M, _R)
    return {row.pop("person_id"): row for row in rows_of(conn, query, (transfer_id,))}


def list_transfers(
    conn: psycopg.Connection[Any],
    *,
    state: str | None = None,
    site_code: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Transfers, newest plan first, optionally in one state or touching one site."""
    return rows_of(
        conn,
        sql.SQL(
            "SELECT transfer_id, origin, destination, state, vehicle, order_reference, "
            "planned_at, dispatched_at, reconciled_at, cancelled_at, manifest_count, "
            "custody_count, received_count, unaccounted_count FROM {} "
            "WHERE (%(state)s::text IS NULL OR state = %(state)s) "
            "AND (%(site)s::text IS NULL OR %(site)s IN (origin, destination)) "
            "ORDER BY planned_at DESC, transfer_id LIMIT %(limit)s"
        ).format(_T),
        {"state": state, "site": site_code, "limit": limit},
    )


def transfers_in_transit(
    conn: psycopg.Connection[Any],
    *,
    within: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """Transfers dispatched and not yet reconciled, oldest departure first; with
    ``within``, those from or to one of those sites. ``after``: the previous next_cursor."""
    paging.check_limit(limit)
    since, transfer = (
        paging.decode_cursor(_IN_TRANSIT, after, _IN_TRANSIT_KEY) if after else (None, None)
    )
    rows = rows_of(
        conn,
        sql.SQL(
            "SELECT transfer_id, origin, destination, vehicle, order_reference, dispatched_at, "
            "manifest_count, received_count FROM {} WHERE state = 'dispatched' "
            "AND (%(within)s::text[] IS NULL OR origin = ANY(%(within)s::text[]) "
            "     OR destination = ANY(%(within)s::text[])) "
            "AND (%(since)s::timestamptz IS NULL "
            "     OR (dispatched_at, transfer_id) > (%(since)s, %(transfer)s)) "
            "ORDER BY dispatched_at, transfer_id LIMIT %(limit)s"
        ).format(_T),
        {
            "within": list(within) if within is not None else None,
            "since": since,
            "transfer": transfer,
            "limit": limit + 1,
        },
    )
    return paging.page_of(
        _IN_TRANSIT, rows, limit, lambda row: (row["dispatched_at"], row["transfer_id"])
    )


def closed_transfers(
    conn: psycopg.Connection[Any],
    *,
    state: str,
    within: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """Transfers planned (not yet dispatched) or reconciled, the latest first: a planned
    one by when it was planned, a reconciled one by when it was reconciled. With
    ``within``, those from or to one of those sites."""
    paging.check_limit(limit)
    if state not in _CLOSED_ORDER:
        raise ValueError(f"state must be one of {', '.join(_CLOSED_ORDER)}")
    kind = f"{state} transfers"
    since, transfer = paging.decode_cursor(kind, after, _IN_TRANSIT_KEY) if after else (None, None)
    column = _CLOSED_ORDER[state]
    rows = rows_of(
        conn,
        sql.SQL(
            "SELECT transfer_id, origin, destination, vehicle, order_reference, planned_at, "
            "planned_by, dispatched_at, reconciled_at, manifest_count, custody_count, "
            "received_count, unaccounted_count FROM {table} WHERE state = %(state)s "
            "AND (%(within)s::text[] IS NULL OR origin = ANY(%(within)s::text[]) "
            "     OR destination = ANY(%(within)s::text[])) "
            "AND (%(since)s::timestamptz IS NULL "
            "     OR ({moment}, transfer_id) < (%(since)s, %(transfer)s)) "
            "ORDER BY {moment} DESC, transfer_id DESC LIMIT %(limit)s"
        ).format(table=_T, moment=sql.Identifier(column)),
        {
            "state": state,
            "within": list(within) if within is not None else None,
            "since": since,
            "transfer": transfer,
            "limit": limit + 1,
        },
    )
    return paging.page_of(kind, rows, limit, lambda row: (row[column], row["transfer_id"]))


def unaccounted_persons(
    conn: psycopg.Connection[Any],
    *,
    within: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """Everyone dispatched on a reconciled transfer and never checked in, by reconciliation;
    with ``within``, on transfers from or to one of those sites."""
    paging.check_limit(limit)
    since, transfer, line = (
        paging.decode_cursor(_UNACCOUNTED, after, _UNACCOUNTED_KEY) if after else (None,) * 3
    )
    rows = rows_of(
        conn,
        sql.SQL(
            "SELECT m.person_id, r.registration_number, t.transfer_id, t.origin, "
            "t.destination, t.dispatched_at, t.reconciled_at, t.order_reference, m.line "
            "FROM {} m JOIN {} t USING (transfer_id) LEFT JOIN {} r USING (person_id) "
            "WHERE m.status = 'unaccounted' "
            "AND (%(within)s::text[] IS NULL OR t.origin = ANY(%(within)s::text[]) "
            "     OR t.destination = ANY(%(within)s::text[])) "
            "AND (%(since)s::timestamptz IS NULL OR (t.reconciled_at, t.transfer_id, m.line) "
            "     > (%(since)s, %(transfer)s, %(line)s)) "
            "ORDER BY t.reconciled_at, t.transfer_id, m.line LIMIT %(limit)s"
        ).format(_M, _T, _R),
        {
            "within": list(within) if within is not None else None,
            "since": since,
            "transfer": transfer,
            "line": line,
            "limit": limit + 1,
        },
    )
    page = paging.page_of(
        _UNACCOUNTED,
        rows,
        limit,
        lambda row: (row["reconciled_at"], row["transfer_id"], row["line"]),
    )
    for row in page.rows:
        del row["line"]  # the manifest's order, needed only to page
    return page


_IN_TRANSIT = "transfers in transit"
# The moment a planned or reconciled transfer is listed by, latest first.
_CLOSED_ORDER = {"planned": "planned_at", "reconciled": "reconciled_at"}
_IN_TRANSIT_KEY = (paging.INSTANT, paging.ID)
_UNACCOUNTED = "unaccounted persons"
_UNACCOUNTED_KEY = (paging.INSTANT, paging.ID, paging.INTEGER)
