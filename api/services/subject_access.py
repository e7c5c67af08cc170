"""Subject access: everything campledger holds about one person, as one JSON document.

A person (or someone acting for them) has the right to know what is held about them
(ICRC Handbook on Data Protection in Humanitarian Action, rights of the data subject;
UNHCR Policy on the Protection of Personal Data of Persons of Concern, right of access).
The data protection officer answers it with this document, through
``campledger subject-export`` or ``GET /persons/{id}/subject-export``: the person's
current state with their personal data, their whole history (and that of every record
merged into theirs), the audit log's entries and the access trail's entries about them,
the likely duplicates proposed for them and their household.

The export is itself a read of personal data, so it goes on the access trail first, and
the document then lists the trail as it stands, the export's own entry included (its id
is ``export_entry``). Recording and reading happen in one transaction: an export that
fails midway leaves no entry, and one that succeeds cannot be missing from its own trail.

An erased person's export still answers: ``erased`` is true, the current state's personal
fields are null and the history marks each personal value erased; the facts that were
never personal (sites, statuses, who recorded what) are all there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg import sql

from campledger.api.services.access import check_permission, check_scope
from campledger.api.services.access_trail import (
    AccessEntry,
    access_entries,
    record_access,
    record_accesses,
)
from campledger.api.services.auth import Permission, Principal
from campledger.domain.history import jsonable, person_history
from campledger.domain.service.registry import Registry
from campledger.projections import households, roster
from campledger.projections.audit_log import MAX_LIMIT, AuditEntry, audit_entries
from campledger.projections.duplicates import Duplicates
from campledger.projections.roster import Roster
from campledger.projections.rows import rows_of

# The document's shape: raised when a key is renamed or removed, not when one is added.
FORMAT_VERSION = 1
# The access trail's purpose for an export from the command line.
CLI_PURPOSE = "subject-export"
# Read a long trail in pages this size (the most ``access_entries`` returns).
_TRAIL_PAGE = 10_000

# An entry of the access trail or of the audit log, read page by page (``_every_page``).
_Entry = TypeVar("_Entry")


def check_subject_access(principal: Principal) -> str:
    """The exporter's name, recorded on the access trail. An export spans every site the
    person passed through, so, as for auditors, a site-scoped token is refused."""
    check_permission(principal, Permission.SUBJECT_ACCESS)
    check_scope(principal, None)
    return principal.actor


def export_subject(
    registry: Registry,
    conn: psycopg.Connection[Any],
    person_id: UUID,
    *,
    actor: str,
    purpose: str,
) -> dict[str, Any]:
    """Everything held about ``person_id``, as JSON values, after recording the export on
    the access trail as ``actor``'s under ``purpose``. An unknown person is refused
    (``PersonNotFound``) before anything is written."""
    history = person_history(registry, person_id, include_personal=True, include_duplicates=True)
    records = [person_id, *history.duplicates]
    with conn.transaction():
        entry = record_access(conn, actor, person_id, purpose)
        # The merged records' histories are shown with their personal data too.
        record_accesses(conn, actor, records[1:], purpose)
        current = roster.get_person_row(conn, person_id, include_personal=True)
        trail = [e.as_dict() for r in records for e in _all_accesses(conn, r)]
        audit = [jsonable(dataclasses.asdict(e)) for r in records for e in _all_audit(conn, r)]
        pairs = duplicate_candidates(conn, person_id)
        last = history.entries[-1].state
        household = _household(conn, last.get("household_id"), last.get("relationship"))
    body = history.as_dict()
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "exported_by": actor,
        "purpose": purpose,
        "export_entry": entry,
        "person_id": str(person_id),
        "registration_number": last.get("registration_number"),
        "erased": history.erased,
        "current_state": jsonable(current),
        "history": {"events": body["events"], "duplicates": body["duplicates"]},
        "household": household,
        "duplicate_candidates": pairs,
        "audit_log": audit,
        "access_trail": trail,
    }


def _all_accesses(conn: psycopg.Connection[Any], person_id: UUID) -> Iterator[AccessEntry]:
    def page_after(after: int | None) -> list[AccessEntry]:
        return access_entries(conn, person_id=person_id, after=after, limit=_TRAIL_PAGE)

    return _every_page(page_after, _TRAIL_PAGE, lambda entry: entry.id)


def _all_audit(conn: psycopg.Connection[Any], person_id: UUID) -> Iterator[AuditEntry]:
    def page_after(after: int | None) -> list[AuditEntry]:
        return audit_entries(conn, subject_id=person_id, after_position=after, limit=MAX_LIMIT)

    return _every_page(page_after, MAX_LIMIT, lambda entry: entry.position)


def _every_page(
    page_after: Callable[[int | None], Sequence[_Entry]],
    page_size: int,
    key_of: Callable[[_Entry], int],
) -> Iterator[_Entry]:
    """Every entry of a read paged by key: ``page_after(key)`` reads up to ``page_size``
    entries after that key (from the start with None). The export wants them all, so it
    reads on from the last entry's key until a page comes back short."""
    after: int | None = None
    while True:
        page = page_after(after)
        yield from page
        if len(page) < page_size:
            return
        after = key_of(page[-1])


_PAIRS = """
SELECT CASE WHEN c.person_id = %(id)s THEN c.other_id ELSE c.person_id END AS other_id,
       r.registration_number AS other_registration_number, c.score, c.reasons
FROM {candidates} c
LEFT JOIN {roster} r
  ON r.person_id = CASE WHEN c.person_id = %(id)s THEN c.other_id ELSE c.person_id END
WHERE c.person_id = %(id)s OR c.other_id = %(id)s
ORDER BY c.score DESC, other_id
"""


def duplicate_candidates(conn: psycopg.Connection[Any], person_id: UUID) -> list[dict[str, Any]]:
    """The records proposed now as maybe the same person as this one: the other record's
    id and registration number, the score and its reasons (never a name)."""
    query = sql.SQL(_PAIRS).format(
        candidates=sql.Identifier(Duplicates.live_schema(), "candidates"),
        roster=sql.Identifier(Roster.live_schema(), "roster"),
    )
    return [
        {**jsonable(row), "score": row["score"] / 1000}
        for row in rows_of(conn, query, {"id": person_id})
    ]


def _household(
    conn: psycopg.Connection[Any], household_id: str | None, relationship: str | None
) -> dict[str, Any] | None:
    """The person's household: its id, their relationship in it, and who is recorded in it
    (ids, registration numbers and relationships only: where the other members are is
    theirs to know, not part of this person's data)."""
    if not household_id:
        return None
    found = households.household(conn, household_id)
    members = found["members"] if found else []
    return {
        "household_id": household_id,
        "relationship": relationship,
        "members": [
            {
                "person_id": str(m["person_id"]),
                "registration_number": m["registration_number"],
                "relationship": m["relationship"],
            }
            for m in members
        ],
    }
