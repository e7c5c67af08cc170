"""Request and response bodies: ``XCreate`` comes in, ``XPublic`` goes out.

Request models forbid unknown fields: a typo in a field name is an error, not a silently
dropped value.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from domain.arrival import Arrival

Text = Field(max_length=200)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and commands are fingerprinted and stored as
        # JSON with 64-bit integers: refused here, by field, rather than deep in a command.
        reason = _unstorable(value)
        if reason:
            raise ValueError(reason)
        return value


def _unstorable(value: Any) -> str | None:
    if isinstance(value, str):
        return "must not contain NUL characters" if "\x00" in value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return None if -(2**63) <= value < 2**63 else "whole numbers must fit in 64 bits"
    if isinstance(value, list | tuple):
        return next((r for r in map(_unstorable, value) if r), None)
    if isinstance(value, dict):
        found = (_unstorable(k) or _unstorable(v) for k, v in value.items())
        return next((r for r in found if r), None)
    return None


class Command(Strict):
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When it happened in the field (default: now)."
    )


# --- sites -------------------------------------------------------------------------------


class SiteCreate(Command):
    code: str = Field(max_length=40, examples=["RC-ADRE"])
    name: str = Field(max_length=200, examples=["Adré reception point"])
    kind: str = Field(
        examples=["reception"],
        description="reception, screening, transit, camp, hospital or holding",
    )
    capacity: int = Field(ge=0, le=10_000_000)
    admin1_pcode: str | None = Field(default=None, max_length=20)
    admin2_pcode: str | None = Field(default=None, max_length=20)
    latitude: float | None = None
    longitude: float | None = None


class CapacityChange(Command):
    capacity: int = Field(ge=0, le=10_000_000)
    reason: str = Field(default="", max_length=500)


class SiteClose(Command):
    reason: str = Field(default="", max_length=500)


class CommandPublic(BaseModel):
    position: int = Field(description="Log position of the command's last event.")
    replayed: bool = Field(description="True when the Idempotency-Key was seen before.")


class SiteCommandPublic(CommandPublic):
    site_code: str


# --- arrivals ------------------------------------------------------------------------------


class ArrivalCreate(Strict):
    registration_number: str = Field(max_length=64)
    given_name: str = Field(max_length=200)
    family_name: str = Field(default="", max_length=200)
    sex: str = Field(max_length=20, description="female, male or unknown")
    nationality: str = Field(max_length=3, description="ISO 3166-1 alpha-3")
    date_of_birth: date | None = None
    estimated_age: int | None = Field(default=None, ge=0, le=130)
    household_id: str | None = Field(default=None, max_length=128)
    relationship: str | None = Field(default=None, max_length=40)
    biometric_reference: str | None = Field(default=None, max_length=128)
    specific_needs: list[str] = Field(default_factory=list, max_length=20)
    occurred_at: AwareDatetime | None = None
    person_id: UUID | None = Field(default=None, description="Minted by an offline device.")

    def to_arrival(self) -> Arrival:
        return Arrival(
            registration_number=self.registration_number,
            given_name=self.given_name,
            family_name=self.family_name,
            sex=self.sex,
            nationality=self.nationality,
            date_of_birth=self.date_of_birth,
            estimated_age=self.estimated_age,
            household_id=self.household_id,
            relationship=self.relationship,
            biometric_reference=self.biometric_reference,
            specific_needs=tuple(self.specific_needs),
            occurred_at=self.occurred_at,
            person_id=self.person_id,
        )


class SingleArrivalCreate(ArrivalCreate):
    site_code: str = Field(max_length=40)


class ArrivalBatchCreate(Strict):
    site_code: str = Field(max_length=40)
    # The limit of 1,000 is the domain's; a longer list gets 413 from it, not a schema 422.
    arrivals: list[ArrivalCreate]


class ArrivalPublic(CommandPublic):
    person_id: UUID


class ArrivalBatchPublic(CommandPublic):
    person_ids: list[UUID]


# --- persons --------------------------------------------------------------------------------


class ScreeningCreate(Command):
    step: str = Field(max_length=40, description="identity, medical, vulnerability, security")
    outcome: str = Field(max_length=40, description="cleared, referred or held")
    reason: str = Field(default="", max_length=500)


class ReasonCommand(Command):
    reason: str = Field(max_length=500)


class DepartureCreate(Command):
    reason: str = Field(
        max_length=40,
        description="released_to_community, returned, resettled, repatriated, deceased, absconded",
    )


class CorrectionCreate(Command):
    field: str = Field(max_length=40)
    value: Any = Field(description="The corrected value (text, number, date, list or null).")
    reason: str = Field(max_length=500)
    family_tracing: bool = Field(
        default=False,
        description="Set a household id as family tracing: join a household whose members "
        "may be at sites outside the token's scope (needs households:trace); recorded on "
        "the correction.",
    )


class MergeCreate(Command):
    survivor_id: UUID
    reason: str = Field(max_length=500)


class PersonCommandPublic(CommandPublic):
    person_id: UUID
    version: int | None = None


class MergePublic(CommandPublic):
    duplicate_id: UUID
    survivor_id: UUID


# --- transfers ------------------------------------------------------------------------------


class TransferCreate(Command):
    origin: str = Field(max_length=40)
    destination: str = Field(max_length=40)
    manifest: list[UUID] = Field(min_length=1)
    vehicle: str = Field(default="", max_length=100)
    order_reference: str = Field(default="", max_length=100)


class ReceiptCreate(Command):
    site_code: str = Field(max_length=40)
    persons: list[UUID] = Field(min_length=1, max_length=1_000)


class TransferCommandPublic(CommandPublic):
    transfer_id: UUID
    state: str | None = None
    missing: list[UUID] | None = None
    unaccounted_for: list[UUID] | None = None


# --- reads ------------------------------------------------------------------------------------


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = None


class HealthPublic(BaseModel):
    status: str
    database: bool
    head: int | None = None
    lag: dict[str, int] | None = None
    checked_at: datetime
