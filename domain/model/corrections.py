"""Correcting a person's details: which can be corrected, and how each new value is checked.

A correction event stores the new value in its JSON form (dates as ISO text),
so the event stays a flat, readable fact; ``person.DetailCorrected`` turns it back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from campledger.domain.model import errors
from campledger.domain.model.arrival import (
    check_latin_name,
    check_registration_number,
    optional_text,
)
from campledger.domain.model.needs import parse_specific_needs
from campledger.domain.model.values import (
    MAX_AGE,
    PERSONAL_FIELDS,
    REASON_MAX,
    Relationship,
    age_on,
    check_storable,
    check_text,
    parse_enum,
    parse_nationality,
    parse_sex,
)

if TYPE_CHECKING:
    from campledger.domain.model.person import Person


def _date_of_birth(value: Any, today: date) -> str | None:
    if value is None:
        return None
    try:
        born = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise errors.InvalidAge("date of birth must be a date (YYYY-MM-DD)") from None
    if born > today or age_on(born, today) > MAX_AGE:
        raise errors.InvalidAge("date of birth is out of range")
    return born.isoformat()


def _estimated_age(value: Any, _: date) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AGE:
        raise errors.InvalidAge(f"estimated age must be a whole number from 0 to {MAX_AGE}")
    return value


def _text(name: str, required: bool = True) -> Callable[[Any, date], str | None]:
    def parse(value: Any, _: date) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise errors.InvalidInput(f"{name} must be text")
        return check_text(name, value, required=required) or None

    return parse


def _optional(name: str) -> Callable[[Any, date], str | None]:
    def parse(value: Any, _: date) -> str | None:
        if value is not None and not isinstance(value, str):
            raise errors.InvalidInput(f"{name} must be text")
        return optional_text(name, value)

    return parse


def _latin(name: str) -> Callable[[Any, date], str | None]:
    def parse(value: Any, _: date) -> str | None:
        if value is not None and not isinstance(value, str):
            raise errors.InvalidInput(f"{name} must be text")
        return check_latin_name(name, value)

    return parse


def _relationship(value: Any, _: date) -> str | None:
    if value is None:
        return None
    return parse_enum(Relationship, str(value), errors.InvalidInput).value


def _needs(value: Any, _: date) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise errors.InvalidInput("specific needs must be a list of codes")
    return list(parse_specific_needs(tuple(value)))


CORRECTABLE: dict[str, Callable[[Any, date], Any]] = {
    "registration_number": lambda v, _: check_registration_number(str(v)),
    "given_name": _text("given name"),
    "family_name": _text("family name", required=False),
    "given_name_latin": _latin("given name in Latin"),
    "family_name_latin": _latin("family name in Latin"),
    "sex": lambda v, _: parse_sex(str(v)).value,
    "date_of_birth": _date_of_birth,
    "estimated_age": _estimated_age,
    "nationality": lambda v, _: parse_nationality(str(v)),
    "household_id": _optional("household id"),
    "relationship": _relationship,
    "biometric_reference": _optional("biometric reference"),
    "specific_needs": _needs,
}


def parse_correction(field: str, value: Any, *, today: date) -> Any:
    """The new value in its stored (JSON) form; raises if the field or value is wrong."""
    # First, before any parser turns the value into text: str() of a list nested 900
    # deep is itself a recursion.
    check_storable("value", value)
    parser = CORRECTABLE.get(field)
    if parser is None:
        allowed = ", ".join(CORRECTABLE)
        raise errors.InvalidInput(f"'{field}' cannot be corrected; correctable fields: {allowed}")
    return parser(value, today)


# A person has a date of birth, an estimated age, or both: either may be cleared only
# while the other is there.
_OTHER_AGE_FIELD = {"date_of_birth": "estimated_age", "estimated_age": "date_of_birth"}


def correct(
    person: Person,
    *,
    field: str,
    value: Any,
    reason: str,
    actor: str,
    occurred_at: datetime,
    now: datetime,
    family_tracing: bool = False,
) -> Any:
    """Fix a mistaken detail; returns the previous value (the original stays in history).

    ``family_tracing`` records that a household id was set on purpose to join a family
    traced across sites; it means nothing for any other correction, so it is refused
    there rather than recorded as a claim nobody made.
    """
    person.check_not_merged()
    if field in PERSONAL_FIELDS and person.erased:
        # Nothing personal is recorded about an erased person again.
        raise errors.PersonalDataErased(
            f"the personal data of person {person.id} was erased", person=str(person.id)
        )
    new_value = parse_correction(field, value, today=now.date())
    if family_tracing and (field != "household_id" or new_value is None):
        raise errors.InvalidInput(
            "family tracing applies only to a correction that sets a household id"
        )
    reason = check_text("reason", reason, max_length=REASON_MAX)
    person.check_time(occurred_at, now)
    other = _OTHER_AGE_FIELD.get(field)
    if new_value is None and other is not None and getattr(person, other) is None:
        raise errors.InvalidAge("a date of birth or an estimated age is required")
    previous = getattr(person, field)
    person.trigger_event(
        person.DetailCorrected,
        field=field,
        new_value=new_value,
        reason=reason,
        actor=actor,
        occurred_at=occurred_at,
        family_tracing=family_tracing,
    )
    return previous
