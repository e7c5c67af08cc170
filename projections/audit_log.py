"""The audit log: one row per event, whatever its type, without personal data.

Who did what to whom, where, when (both clocks) and on whose order. A correction is
logged by the name of the field it changed, never its value; names, dates of birth and
biometric references never enter this schema. Every event gets a row — including event
types added after this module was written — so "one row per position" can be checked.

Actions are ``<subject>.<event in snake case>``: ``site.opened``, ``site.capacity_changed``,
``site.closed``, ``person.registered``, ``person.screening_step_recorded``, ``person.held``,
``person.released``, ``person.placed_on_manifest``, ``person.removed_from_manifest``,
``person.transfer_dispatched``, ``person.transfer_received``,
``person.marked_unaccounted_for``, ``person.departed``, ``person.detail_corrected``,
``person.merged_into``, ``person.duplicate_merged``, ``transfer.planned``,
``transfer.dispatched``, ``transfer.received``, ``transfer.reconciled``,
``transfer.cancelled``, ``person.personal_data_erased``.

A person's erasure empties the free-text reasons of their earlier events.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, TypedDict, Unpack
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import class_row

from campledger.domain.model.person import Person
from campledger.domain.model.site import Site
from campledger.domain.model.transfer import Transfer
from campledger.domain.persistence.personal_data import personal_fields
from campledger.projections import paging
from campledger.projections.folds import copy_rows
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel


@dataclass(frozen=True)
class AuditEntry:
    position: int
    recorded_at: datetime
    occurred_at: datetime | None
    actor: str | None
    action: str
    subject_type: str
    subject_id: UUID
    site_code: str | None
    transfer_id: UUID | None
    order_reference: str | None
    reason: str | None
    detail: str | None


@lru_cache(maxsize=256)
def action_of(event_class: type) -> tuple[str, str]:
    """(subject type, action) from the event class: Person.ScreeningStepRecorded ->
    ('person', 'person.screening_step_recorded')."""
    owner, _, name = event_class.__qualname__.rpartition(".")
    subject = (owner.rpartition(".")[2] or event_class.__module__.rpartition(".")[2]).lower()
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return subject, f"{subject}.{snake}"


# The actions whose reason is free text sealed under the person's key.
SEALED_REASONS = [
    action_of(cls)[1]
    for cls in vars(Person).values()
    if isinstance(cls, type)
    and issubclass(cls, Person.Event)
    and "reason" in personal_fields(get_topic(cls), {})
]


class AuditLog(ReadModel):
    name = "audit_log"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.entries (
            position bigint PRIMARY KEY,
            recorded_at timestamptz NOT NULL,
            occurred_at timestamptz,
            actor text,
            action text NOT NULL,
            subject_type text NOT NULL,
            subject_id uuid NOT NULL,
            site_code text,
            transfer_id uuid,
            order_reference text,
            reason text,
            detail text
        )
        """,
        "CREATE INDEX IF NOT EXISTS entries_actor ON {schema}.entries (actor, position)",
        "CREATE INDEX IF NOT EXISTS entries_subject ON {schema}.entries (subject_id, position)",
        "CREATE INDEX IF NOT EXISTS entries_site ON {schema}.entries (site_code, position)",
        "CREATE INDEX IF NOT EXISTS entries_action ON {schema}.entries (action, position)",
        "CREATE INDEX IF NOT EXISTS entries_recorded ON {schema}.entries (recorded_at)",
        "CREATE INDEX IF NOT EXISTS entries_occurred ON {schema}.entries (occurred_at)",
        # Later site and transfer events do not repeat the site code or order reference.
        "CREATE TABLE IF NOT EXISTS {schema}.sites (site_id uuid PRIMARY KEY, code text)",
        """
        CREATE TABLE IF NOT EXISTS {schema}.transfers (
            transfer_id uuid PRIMARY KEY, origin text, order_reference text
        )
        """,
    )

    _INSERT = (
        "INSERT INTO {schema}.entries (position, recorded_at, occurred_at, actor, action, "
        "subject_type, subject_id, site_code, transfer_id, order_reference, reason, detail) "
        "VALUES (%(position)s, %(recorded_at)s, %(occurred_at)s, %(actor)s, %(action)s, "
        "%(subject_type)s, %(subject_id)s, "
        "COALESCE(%(site_code)s, (SELECT code FROM {schema}.sites WHERE site_id = %(subject_id)s),"
        " (SELECT origin FROM {schema}.transfers WHERE transfer_id = %(transfer_id)s)), "
        "%(transfer_id)s, COALESCE(%(order_reference)s, (SELECT order_reference FROM "
        "{schema}.transfers WHERE transfer_id = %(transfer_id)s)), %(reason)s, %(detail)s)"
    )

    def fold(self) -> AuditLogFold:
        return AuditLogFold(self)

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        for envelope in batch:
            event = envelope.event
            if isinstance(event, Site.Opened):
                self.run(
                    cur,
                    "INSERT INTO {schema}.sites VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (envelope.originator_id, event.code),
                )
            elif isinstance(event, Transfer.Planned):
                self.run(
                    cur,
                    "INSERT INTO {schema}.transfers VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (envelope.originator_id, event.origin, event.order_reference or None),
                )
            self.run(cur, self._INSERT, entry_params(envelope))
            if isinstance(event, Person.PersonalDataErased):
                # Free-text reasons of the person's earlier events may name them or their
                # family: gone with the key. A rebuild cannot read them either.
                self.run(
                    cur,
                    "UPDATE {schema}.entries SET reason = NULL "
                    "WHERE subject_id = %s AND action = ANY(%s)",
                    (envelope.originator_id, SEALED_REASONS),
                )


_ENTRY_COLUMNS = (
    "position", "recorded_at", "occurred_at", "actor", "action", "subject_type", "subject_id",
    "site_code", "transfer_id", "order_reference", "reason", "detail",
)  # fmt: skip


class AuditLogFold:
    """The audit log folded in memory for a rebuild (``projections/folds.py``): an entry
    per event, as ``AuditLog.apply`` inserts it, written once with COPY."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.sites: dict[UUID, str] = {}
        self.transfers: dict[UUID, tuple[str, str | None]] = {}
        self.entries: list[dict[str, Any]] = []

    def apply(self, envelope: Envelope) -> None:
        event = envelope.event
        entry = entry_params(envelope)  # first: an event it cannot describe changes nothing
        if isinstance(event, Site.Opened):
            self.sites.setdefault(envelope.originator_id, event.code)
        elif isinstance(event, Transfer.Planned):
            self.transfers.setdefault(
                envelope.originator_id, (event.origin, event.order_reference or None)
            )
        origin, order = self.transfers.get(entry["transfer_id"], (None, None))
        entry["site_code"] = entry["site_code"] or self.sites.get(entry["subject_id"]) or origin
        entry["order_reference"] = entry["order_reference"] or order
        # No reason to clear at an erasure, as the live path does: read from the log after
        # it, an erased person's reasons no longer open (they come back None).
        self.entries.append(entry)

    def write(self, cur: Cursor[Any]) -> None:
        rows = ([entry[c] for c in _ENTRY_COLUMNS] for entry in self.entries)
        copy_rows(cur, self.model, "entries", _ENTRY_COLUMNS, rows)
        copy_rows(cur, self.model, "sites", ("site_id", "code"), self.sites.items())
        transfers = ((t, origin, order) for t, (origin, order) in self.transfers.items())
        copy_rows(
            cur, self.model, "transfers", ("transfer_id", "origin", "order_reference"), transfers
        )


def entry_params(envelope: Envelope) -> dict[str, Any]:
    event = envelope.event
    subject_type, action = action_of(type(event))  # type: ignore[arg-type]
    transfer_id = getattr(event, "transfer_id", None)
    if subject_type == "transfer":
        transfer_id = envelope.originator_id
    site_code = getattr(event, "site_code", None) or getattr(event, "origin", None)
    if isinstance(event, Site.Opened):
        site_code = event.code
    detail = None
    if hasattr(event, "field"):  # a correction: the field's name only, never the value
        detail = f"field={event.field}"
        if getattr(event, "family_tracing", False):
            detail += " family_tracing"  # a household joined across sites, on purpose
    elif hasattr(event, "step"):
        detail = f"{event.step}={event.outcome}"
    elif getattr(event, "in_custody", False):
        detail = "in_custody"
    elif hasattr(event, "custody") and hasattr(event, "manifest"):
        detail = f"manifest={len(event.manifest)} custody={len(event.custody)}"
    elif hasattr(event, "survivor_id"):
        detail = f"survivor={event.survivor_id}"
    elif hasattr(event, "duplicate_id"):
        detail = f"duplicate={event.duplicate_id}"
    elif hasattr(event, "capacity"):
        detail = f"capacity={event.capacity}"
    elif hasattr(event, "unaccounted_for"):
        detail = f"unaccounted_for={len(event.unaccounted_for)}"
    elif hasattr(event, "persons"):
        detail = f"persons={len(event.persons)}"
    elif hasattr(event, "manifest"):
        detail = f"manifest={len(event.manifest)}"
    # A hold's order: who decided it (an office, not a person's data) and until when. The
    # order reference has its own column.
    if getattr(event, "authority", ""):
        detail = f"{detail} authority={event.authority}" if detail else (
            f"authority={event.authority}")  # fmt: skip
    if getattr(event, "review_date", None) is not None:
        detail = f"{detail} review={event.review_date.isoformat()}"
    reason = getattr(event, "reason", None) or None
    return {
        "position": envelope.position,
        "recorded_at": event.timestamp,
        "occurred_at": getattr(event, "occurred_at", None),
        "actor": getattr(event, "actor", None),
        "action": action,
        "subject_type": subject_type,
        "subject_id": envelope.originator_id,
        "site_code": site_code,
        "transfer_id": transfer_id,
        "order_reference": getattr(event, "order_reference", None) or None,
        "reason": reason,
        "detail": detail,
    }


class AuditFilters(TypedDict, total=False):
    """What audit entries can be narrowed to (each filter given must match). Time ranges
    are half-open: from (inclusive) to (exclusive)."""

    actor: str | None
    subject_id: UUID | None
    site_code: str | None
    action: str | None
    recorded_from: datetime | None
    recorded_to: datetime | None
    occurred_from: datetime | None
    occurred_to: datetime | None


# Each filter's column and comparison.
_FILTERS: dict[str, tuple[str, str]] = {
    "actor": ("actor", "="),
    "subject_id": ("subject_id", "="),
    "site_code": ("site_code", "="),
    "action": ("action", "="),
    "recorded_from": ("recorded_at", ">="),
    "recorded_to": ("recorded_at", "<"),
    "occurred_from": ("occurred_at", ">="),
    "occurred_to": ("occurred_at", "<"),
}


def audit_entries(
    conn: psycopg.Connection[Any],
    *,
    after_position: int | None = None,
    limit: int = 100,
    **filters: Unpack[AuditFilters],
) -> list[AuditEntry]:
    """Audit entries matching every filter given, in log order, keyset-paged by position."""
    _check_limit(limit)
    return _entries(conn, filters, after_position, fetch=limit)


def audit_page(
    conn: psycopg.Connection[Any],
    *,
    after: str | None = None,
    limit: int = 100,
    **filters: Unpack[AuditFilters],
) -> Page:
    """One page of ``audit_entries`` (same filters), as dicts; ``after`` is the previous
    page's ``next_cursor``."""
    _check_limit(limit)
    position = paging.decode_cursor(_KIND, after, (paging.INTEGER,))[0] if after else None
    entries = _entries(conn, filters, position, fetch=limit + 1)
    rows = [dataclasses.asdict(entry) for entry in entries]
    return paging.page_of(_KIND, rows, limit, lambda row: (row["position"],))


MAX_LIMIT = 10_000
_KIND = "audit log"


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")


def _entries(
    conn: psycopg.Connection[Any], filters: AuditFilters, after_position: int | None, fetch: int
) -> list[AuditEntry]:
    clauses = ["position > %(after)s"]
    params: dict[str, Any] = {"after": after_position or 0, "limit": fetch}
    for name, value in filters.items():
        if value is not None:
            column, op = _FILTERS[name]
            key = f"p{len(params)}"
            clauses.append(f"{column} {op} %({key})s")
            params[key] = value
    query = (
        f"SELECT position, recorded_at, occurred_at, actor, action, subject_type, subject_id, "
        f"site_code, transfer_id, order_reference, reason, detail "
        f"FROM {AuditLog.live_schema()}.entries WHERE {' AND '.join(clauses)} "
        "ORDER BY position LIMIT %(limit)s"
    )
    with conn.cursor(row_factory=class_row(AuditEntry)) as cur:
        cur.execute(query, params)
        return cur.fetchall()
