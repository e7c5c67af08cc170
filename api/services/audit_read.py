"""What an auditor reads, whichever way in: the ledger's current digest, the audit log
(a page, or the same page as CSV) and the access trail.

The API's ``/audit`` endpoints and the console's audit pages both read through here, so
the two cannot disagree on scope, filters or columns. Every read spans every site: only
an unscoped principal with ``audit:read`` may make it (``check_auditor``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from campledger.api.database.access_trail import create_access_trail
from campledger.api.services import safe_csv
from campledger.api.services.access import check_permission, check_scope
from campledger.api.services.access_trail import access_page
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query
from campledger.projections import paging
from campledger.projections.audit_log import audit_page
from campledger.projections.ledger import Digest, current_digest

# The audit log's filters, as the API's query and the console's form both name them.
FILTERS = (
    "actor", "subject_id", "site_code", "action",
    "recorded_from", "recorded_to", "occurred_from", "occurred_to",
)  # fmt: skip


def check_auditor(principal: Principal) -> str:
    """The auditor's name, recorded as the actor of what they read. The audit reads span
    every site (the whole log, anyone's history, the access trail) and cannot be narrowed
    to an account's sites, so only unscoped principals pass."""
    check_permission(principal, Permission.AUDIT_READ)
    check_scope(principal, None)
    return principal.actor


def read_digest(database_url: str) -> Digest | None:
    """The ledger's latest link (None: the ledger holds no events yet)."""
    with psycopg.connect(database_url) as conn:
        return current_digest(conn)


def audit_log_page(
    database_url: str,
    filters: dict[str, Any],
    after: str | None,
    limit: int,
    *,
    as_text: bool = True,
) -> paging.Page:
    """Audit entries matching ``filters`` (keys of ``FILTERS``), in log order; with
    ``as_text``, times and ids as text (as JSON and CSV write them)."""
    with psycopg.connect(database_url) as conn, bad_query():
        page = audit_page(conn, **filters, after=after, limit=limit)
    if not as_text:
        return page
    return paging.Page([_as_text(row) for row in page.rows], page.next_cursor)


def _as_text(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, UUID) else v
        for k, v in row.items()
    }


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The audit entries as CSV, a line at a time (the columns are the first row's)."""
    rows = list(rows)
    buffer = io.StringIO()
    # Actors, reasons and order references are typed by users: safe_csv neutralises them.
    columns = list(rows[0]) if rows else ["position"]
    writer = safe_csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row.get(c) for c in columns)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def access_trail_page(
    database_url: str,
    *,
    person_id: UUID | None = None,
    actor: str | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    after: str | None = None,
    limit: int = 100,
) -> paging.Page:
    """Who read whose personal data, when, through what, oldest first."""
    with psycopg.connect(database_url, autocommit=True) as conn, bad_query():
        create_access_trail(conn)
        return access_page(
            conn, person_id=person_id, actor=actor, from_=from_, to=to, after=after, limit=limit
        )
