"""Auditors' endpoints: the current digest, proofs, person history, audit log, access trail.

Every endpoint needs an unscoped token whose role has ``audit:read``; its name is the
actor recorded in the access trail. The app must put the composition root on
``app.state.backend`` (an ``api.composition.Backend``) and the read pool on
``app.state.pool``, as ``api.app.create_app`` does.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from campledger.api.composition import Backend
from campledger.api.http.deps import BackendDep, require
from campledger.api.http.lists import Cursor, Limit, page_body
from campledger.api.schemas import DateTime, Page
from campledger.api.schemas.audit import AccessEntryPublic, AuditEntryPublic
from campledger.api.schemas.people import PersonHistoryPublic
from campledger.api.services.access_trail import record_access
from campledger.api.services.audit_read import (
    FILTERS,
    access_trail_page,
    audit_log_page,
    check_auditor,
    csv_lines,
    read_digest,
)
from campledger.api.services.auth import Permission, Principal
from campledger.domain.history import person_history
from campledger.projections import paging
from campledger.projections.audit_log import MAX_LIMIT
from campledger.projections.paging import CURSOR_MAX_LENGTH, CURSOR_PATTERN
from campledger.projections.verify import prove_digest

router = APIRouter(prefix="/audit", tags=["audit"])


# A real dependency rather than one the app overrides: FastAPI re-analyses every
# dependency of every request, on every route, as soon as the app has any override.
def require_auditor(
    principal: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
) -> str:
    """The authenticated auditor's name, recorded as the actor of what they read."""
    return check_auditor(principal)


Auditor = Annotated[str, Depends(require_auditor)]


class DigestPublic(BaseModel):
    position: int
    digest: str  # hex SHA-256 link at ``position``; keep it to prove the log later


class ProofPublic(BaseModel):
    ok: bool
    position: int
    expected: str
    recomputed: str | None
    events: int
    problem: str | None


@router.get("/digest", response_model=DigestPublic)
def get_digest(_: Auditor, app: BackendDep) -> DigestPublic:
    """The ledger's latest link: position and digest."""
    found = read_digest(app.database_url)
    if found is None:
        raise HTTPException(status_code=404, detail="the ledger holds no events yet")
    return DigestPublic(position=found.position, digest=found.hex)


@router.get("/proof", response_model=ProofPublic)
def get_proof(
    _: Auditor,
    app: BackendDep,
    position: Annotated[int, Query(ge=1, le=2**63 - 1)],
    digest: Annotated[str, Query(pattern="^[0-9a-fA-F]{64}$")],
) -> ProofPublic:
    """Does the log up to ``position`` still hash to a digest kept earlier? (Recomputed.)"""
    proof = prove_digest(app.database_url, position, digest)
    return ProofPublic.model_validate(proof, from_attributes=True)


@router.get(
    "/persons/{person_id}/history",
    response_model=PersonHistoryPublic,
    response_model_exclude_unset=True,
)
def get_person_history(
    person_id: UUID,
    actor: Auditor,
    app: BackendDep,
    as_of: DateTime | None = None,
    known_at: DateTime | None = None,
    personal: bool = False,
    duplicates: bool = False,
) -> dict[str, Any]:
    """Every event of a person with the state after it; as of field time and/or known-at."""
    found = person_history(
        app.registry,
        person_id,
        as_of=as_of,
        known_at=known_at,
        include_personal=personal,
        include_duplicates=duplicates,
    )
    if personal:
        with psycopg.connect(app.database_url, autocommit=True) as conn:
            record_access(conn, actor, person_id, "GET /audit/persons/{id}/history?personal")
    return found.as_dict()


def _audit_page(app: Backend, query: AuditQuery) -> paging.Page:
    return audit_log_page(
        app.database_url, query.model_dump(include=set(FILTERS)), query.cursor, query.limit
    )


class AuditQuery(BaseModel):
    actor: str | None = None
    subject_id: UUID | None = None
    site_code: str | None = None
    action: str | None = None
    recorded_from: DateTime | None = None
    recorded_to: DateTime | None = None
    occurred_from: DateTime | None = None
    occurred_to: DateTime | None = None
    cursor: str | None = Field(
        default=None,
        pattern=CURSOR_PATTERN,
        max_length=CURSOR_MAX_LENGTH,
        description="The previous page's `next_cursor`, unchanged (opaque); omit it for the "
        "first page.",
    )
    # The read model's own bounds: a limit outside them is the caller's mistake (422).
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


@router.get("/log", response_model=Page[AuditEntryPublic])
def get_audit_log(
    _: Auditor, app: BackendDep, query: Annotated[AuditQuery, Query()]
) -> dict[str, Any]:
    """Audit entries by actor, subject, site, action and time, in log order."""
    return page_body(_audit_page(app, query))


@router.get(
    "/log.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The audit entries as CSV."}},
)
def get_audit_log_csv(
    _: Auditor, app: BackendDep, query: Annotated[AuditQuery, Query()]
) -> StreamingResponse:
    """The same query as ``/audit/log``, as CSV (the next page's cursor in the
    ``X-Next-Cursor`` header)."""
    page = _audit_page(app, query)
    return StreamingResponse(
        csv_lines(page.rows),
        media_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="audit-log.csv"',
            **({"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}),
        },
    )


@router.get("/access-trail", response_model=Page[AccessEntryPublic])
def get_access_trail(
    _: Auditor,
    app: BackendDep,
    person_id: UUID | None = None,
    actor: str | None = None,
    from_: Annotated[DateTime | None, Query(alias="from")] = None,
    to: DateTime | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Who read whose personal data, when, through what, oldest first."""
    page = access_trail_page(
        app.database_url,
        person_id=person_id, actor=actor, from_=from_, to=to, after=cursor, limit=limit,
    )  # fmt: skip
    return page_body(page)
