"""What the auditors' lists answer: audit log entries and the access trail."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from campledger.api.schemas.answers import Instant


class AuditEntryPublic(BaseModel):
    position: int
    recorded_at: Instant
    occurred_at: Instant | None
    actor: str | None
    action: str = Field(examples=["person_held"])
    subject_type: str
    subject_id: UUID
    site_code: str | None
    transfer_id: UUID | None
    order_reference: str | None
    reason: str | None
    detail: str | None


class AccessEntryPublic(BaseModel):
    id: int
    accessed_at: Instant
    actor: str
    person_id: UUID
    purpose: str = Field(examples=["GET /persons/{id}"])
