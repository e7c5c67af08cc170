"""An arrival as a field device reports it, and the rules it must meet."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from campledger.domain.model import errors
from campledger.domain.model.needs import parse_specific_needs
from campledger.domain.model.registration_numbers import (
    check_registration_number as check_registration_number,
)
from campledger.domain.model.values import (
    DAY,
    TEXT_MAX,
    YEAR,
    Relationship,
    check_age,
    check_text,
    parse_enum,
    parse_nationality,
    parse_sex,
)


@dataclass(frozen=True, slots=True)
class Arrival:
    registration_number: str
    # The name as the person writes it, in its own script (Arabic, Cyrillic, Latin, ...).
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
    # The same name in Latin letters, as UNHCR documents carry it, when the name above is
    # written in another script.
    given_name_latin: str | None = None
    family_name_latin: str | None = None
    occurred_at: datetime | None = None
    # Offline devices mint the person's id themselves so that later commands
    # recorded on the same device can refer to the person before the sync.
    person_id: UUID | None = None
    # "year" when only the year of birth is known (date_of_birth is then 1 January of it);
    # a date of birth given without it is a day.
    date_of_birth_precision: str | None = None

    def validate(self, today: date) -> Arrival:
        """The same arrival, normalised; raises the first broken rule."""
        born, precision = self.date_of_birth, None
        if born is not None:
            precision = self.date_of_birth_precision or DAY
            check_age(born, self.estimated_age, today, precision)
            born = born.replace(month=1, day=1) if precision == YEAR else born
        else:
            check_age(None, self.estimated_age, today)
        relationship = None
        if self.relationship:
            relationship = parse_enum(Relationship, self.relationship, errors.InvalidInput).value
        return replace(
            self,
            registration_number=check_registration_number(self.registration_number),
            given_name=check_text("given name", self.given_name),
            family_name=check_text("family name", self.family_name, required=False),
            given_name_latin=check_latin_name("given name in Latin", self.given_name_latin),
            family_name_latin=check_latin_name("family name in Latin", self.family_name_latin),
            sex=parse_sex(self.sex).value,
            nationality=parse_nationality(self.nationality),
            household_id=optional_text("household id", self.household_id),
            relationship=relationship,
            biometric_reference=optional_text("biometric reference", self.biometric_reference),
            specific_needs=parse_specific_needs(self.specific_needs),
            date_of_birth=born,
            date_of_birth_precision=precision,
        )

    def details(self) -> dict[str, Any]:
        """What a registration records of the person: every field but when the arrival
        happened and the id a device minted (the event has its own)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("occurred_at", "person_id")
        }


# A name's Latin form: letters of the Latin alphabets (ASCII, Latin-1, Latin Extended-A and
# -B, Latin Extended Additional: Turkish ı ş ç, Kurdish ê û, the ḥ of scholarly spellings),
# combining accents, and what names are written with besides letters: spaces, hyphens,
# apostrophes (O'Brien, Sa'id, and the ʿayn clerks write as a turned comma) and the dots of
# initials. One pattern, published as the fields' pattern and checked here.
LATIN_NAME_PATTERN = (
    r"^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\u0300-\u036f"
    r" '\u2019\u2018\u02bb\u02bc\u02be\u02bf.-]*$"
)
_LATIN_NAME = re.compile(LATIN_NAME_PATTERN)


def check_latin_name(name: str, value: str | None) -> str | None:
    """A name's Latin form, or None; raises if a character in it is not one of
    ``LATIN_NAME_PATTERN``."""
    if value is None:
        return None
    if not isinstance(value, str) or not _LATIN_NAME.match(value):
        raise errors.InvalidInput(
            f"{name} may hold Latin letters, spaces, hyphens, apostrophes and dots only; "
            "the name in its own script goes in the name field itself"
        )
    return optional_text(name, value, max_length=TEXT_MAX)


# A household id or a biometric reference: an id another system minted.
IDENTIFIER_MAX = 128


def optional_text(name: str, value: str | None, max_length: int = IDENTIFIER_MAX) -> str | None:
    if value is None:
        return None
    text = check_text(name, value, max_length=max_length, required=False)
    return text or None
