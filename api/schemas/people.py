"""What the reads of persons answer: a roster row (``GET /persons/{id}`` and the roster),
who was at a site at an instant, the holds register, a person's history.

Personal fields are left out, not null, for a role that may not read personal data: the
routes answer with ``response_model_exclude_unset`` so that a field the read model did not
give stays absent.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from campledger.api.schemas.answers import Instant
from campledger.api.schemas.fields import DateOfBirth, date_of_birth_field
from campledger.api.schemas.reads import Page

_PERSONAL = "Personal data: only for roles that may read it (absent otherwise)."


class PersonPublic(BaseModel):
    """A person's roster row: where they are, in what status, and the registration details."""

    person_id: UUID
    registration_number: str
    site_code: str | None = Field(description="Where the person is; null in transit or gone.")
    last_site_code: str | None
    status: str = Field(examples=["present"])
    sex: str
    estimated_age: int | None
    nationality: str
    household_id: str | None
    relationship: str | None
    specific_needs: list[str]
    screening_steps: list[str]
    transfer_id: UUID | None
    merged_into: UUID | None
    erased: bool = Field(
        default=False,
        description="The person's personal data was erased (docs/data-protection.md): the "
        "personal fields are null for every reader.",
    )
    registered_at: Instant
    updated_at: Instant
    version: int = Field(description="The person's version: their ETag.")
    position: int = Field(description="Log position of the person's last event.")
    age: int | None = Field(description="Whole years today, from the (estimated) birth date.")
    age_band: str = Field(examples=["18-59"])
    given_name: str | None = Field(default=None, description=_PERSONAL)
    family_name: str | None = Field(default=None, description=_PERSONAL)
    given_name_latin: str | None = Field(default=None, description=_PERSONAL)
    family_name_latin: str | None = Field(default=None, description=_PERSONAL)
    date_of_birth: DateOfBirth | None = date_of_birth_field(
        f"{_PERSONAL} A full date, or the year alone (1985) when only the year is known."
    )
    birth_date_estimate: date | None = Field(default=None, description=_PERSONAL)
    biometric_reference: str | None = Field(default=None, description=_PERSONAL)


class StayPublic(BaseModel):
    """Who was at a site at an instant (``as_of``): ids and status only."""

    # Forbidding the rest tells a full roster row from a stay in the roster's items.
    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    status: str


class HoldPublic(BaseModel):
    """One person on the holds register."""

    person_id: UUID
    registration_number: str | None
    given_name: str | None = Field(default=None, description=_PERSONAL)
    family_name: str | None = Field(default=None, description=_PERSONAL)
    status: str = Field(description="held (at a site), in_transit or unaccounted.")
    site_code: str | None
    held_at_site: str = Field(description="Where the hold was decided.")
    transfer_id: UUID | None
    origin: str | None
    destination: str | None
    held_since: Instant
    authority: str
    order_reference: str
    review_date: date | None
    decided_by: str
    days_held: int
    overdue: bool


class HistoryState(BaseModel):
    """The person's state after an event; the fields are those of the person record
    (personal ones only with ``personal=true``), so others may appear."""

    model_config = ConfigDict(extra="allow")

    registration_number: str | None = None
    status: str | None = None
    site_code: str | None = None
    transfer_id: str | None = None
    household_id: str | None = None
    version: int | None = None


class HistoryReference(BaseModel):
    """On whose order or about what an event happened; only the fields the event has."""

    model_config = ConfigDict(extra="allow")

    transfer_id: str | None = None
    survivor_id: str | None = None
    duplicate_id: str | None = None
    duplicate_registration_number: str | None = None
    step: str | None = None
    outcome: str | None = None
    field: str | None = None
    origin: str | None = None
    destination: str | None = None
    authority: str | None = None
    order_reference: str | None = None
    review_date: str | None = None
    in_custody: Any = None
    old_value: Any = Field(default=None, description="A correction's value before it.")
    new_value: Any = None


class HistoryEvent(BaseModel):
    person_id: UUID
    version: int
    action: str = Field(examples=["transfer_received"])
    recorded_at: Instant
    occurred_at: Instant
    actor: str
    site_code: str | None
    reason: str | None
    reference: HistoryReference
    state: HistoryState


class PersonHistoryPublic(BaseModel):
    person_id: UUID
    as_of: Instant | None
    known_at: Instant | None
    erased: bool = Field(
        description="The person's personal data was erased: every personal value of every "
        "event (with `personal=true`) reads `[erased]`, whatever the cut."
    )
    state: HistoryState | None = Field(description="After the last event; null if none.")
    events: list[HistoryEvent]
    duplicates: dict[str, list[HistoryEvent]] = Field(
        description="The histories of records merged into this one, by id (`duplicates`)."
    )


def _roster_item(value: Any) -> str:
    # A row is told from a stay by a field only rows have: validating each item against
    # one model, not trying both, halves the cost of a page.
    found = (
        "registration_number" in value
        if isinstance(value, dict)
        else isinstance(value, PersonPublic)
    )
    return "row" if found else "stay"


RosterItem = Annotated[
    Annotated[PersonPublic, Tag("row")] | Annotated[StayPublic, Tag("stay")],
    Discriminator(_roster_item),
]


class RosterPage(Page[RosterItem]):
    """A page of a roster: roster rows, or with ``as_of`` who was at the site then (ids and
    status only)."""
