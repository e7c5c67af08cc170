"""An arrival as a field device reports it, and the rules it must meet."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from domain import errors
from domain.values import (
    Relationship,
    check_age,
    check_text,
    parse_enum,
    parse_nationality,
    parse_sex,
    parse_specific_needs,
)


@dataclass(frozen=True, slots=True)
class Arrival:
    registration_number: str
    given_name: str
    family_name: str
    sex: str
    nationality: str
    date_of_birth: date | None = None
    estimated_age: int | None = None
    household_id: str | None = None
    relationship: str | None = None
    biometric_reference: str | None = None
    specific_needs: tuple[str, ...] = ()
    occurred_at: datetime | None = None
    # Offline devices mint the person's id themselves so that later commands
    # recorded on the same device can refer to the person before the sync.
    person_id: UUID | None = None

    def validate(self, today: date) -> Arrival:
        """The same arrival, normalised; raises the first broken rule."""
        check_age(self.date_of_birth, self.estimated_age, today)
        relationship = None
        if self.relationship:
            relationship = parse_enum(Relationship, self.relationship, errors.InvalidInput).value
        return replace(
            self,
            registration_number=check_registration_number(self.registration_number),
            given_name=check_text("given name", self.given_name),
            family_name=check_text("family name", self.family_name, required=False),
            sex=parse_sex(self.sex).value,
            nationality=parse_nationality(self.nationality),
            household_id=optional_text("household id", self.household_id),
            relationship=relationship,
            biometric_reference=optional_text("biometric reference", self.biometric_reference),
            specific_needs=parse_specific_needs(self.specific_needs),
        )


def check_registration_number(value: str) -> str:
    number = check_text("registration number", value, max_length=64)
    if not all(c.isalnum() or c in "-_/." for c in number):
        raise errors.InvalidInput(
            "registration number may hold letters, digits, '-', '_', '/' and '.' only"
        )
    return number


def optional_text(name: str, value: str | None, max_length: int = 128) -> str | None:
    if value is None:
        return None
    text = check_text(name, value, max_length=max_length, required=False)
    return text or None
