"""What the reads of transfers answer (projections.transfers rows, field for field)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from campledger.api.schemas.answers import Instant


class ManifestLine(BaseModel):
    person_id: UUID
    registration_number: str | None
    status: str = Field(examples=["received"])
    in_custody: bool
    received_at: Instant | None
    received_by: str | None


class TransferPublic(BaseModel):
    transfer_id: UUID
    origin: str
    destination: str
    state: str = Field(examples=["dispatched"])
    vehicle: str
    order_reference: str
    planned_at: Instant
    dispatched_at: Instant | None
    reconciled_at: Instant | None
    cancelled_at: Instant | None
    planned_by: str
    manifest_count: int
    custody_count: int
    received_count: int
    unaccounted_count: int
    manifest: list[ManifestLine] = Field(description="In manifest order.")


class TransferInTransit(BaseModel):
    transfer_id: UUID
    origin: str
    destination: str
    vehicle: str
    order_reference: str
    dispatched_at: Instant
    manifest_count: int
    received_count: int


class UnaccountedPerson(BaseModel):
    person_id: UUID
    registration_number: str | None
    transfer_id: UUID
    origin: str
    destination: str
    dispatched_at: Instant | None
    reconciled_at: Instant
    order_reference: str
