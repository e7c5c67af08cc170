"""What the reads of households answer (projections.households rows, field for field)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field


class HouseholdSummary(BaseModel):
    household_id: str
    separated: bool
    member_count: int
    active: int
    places: int
    held: int
    in_transit: int
    unaccounted: int
    sites: list[str] = Field(description="The sites of its members that the reader may see.")


class HouseholdMember(BaseModel):
    person_id: UUID
    registration_number: str | None
    relationship: str | None
    status: str
    site_code: str | None
    last_site_code: str | None
    transfer_id: UUID | None


class HouseholdPublic(HouseholdSummary):
    members: list[HouseholdMember]
    members_outside_scope: int | None = Field(
        default=None,
        description="Members at sites the reader may not see, only counted (a site-scoped "
        "reader that may not trace families); absent otherwise.",
    )
