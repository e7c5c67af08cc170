"""Erasing a person's personal data (docs/data-protection.md).

The events stay in the log, their personal fields sealed under the person's key; the
erasure destroys that key (in the transaction of the ``PersonalDataErased`` event), and
the record forgets the values here. What is not personal (sex, age, nationality, sites,
statuses, custody) stays, so rosters and counts stay right.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from campledger.domain.model import errors
from campledger.domain.model.values import (
    ORDER_REFERENCE_MAX,
    PERSONAL_FIELDS,
    ErasureBasis,
    age_on,
    check_text,
    reckoned_birthday,
)

if TYPE_CHECKING:
    from campledger.domain.model.person import Person


def erase(
    person: Person,
    *,
    basis: str,
    order_reference: str,
    actor: str,
    occurred_at: datetime,
    now: datetime,
) -> None:
    """Record the erasure of the person's personal data, whatever their status (a person
    departed long ago is erased under the retention policy)."""
    check_not_erased(person)
    if basis not in ErasureBasis.__members__.values():
        allowed = ", ".join(ErasureBasis)
        raise errors.InvalidInput(f"basis must be one of: {allowed}")
    reference = check_text(
        "order_reference", order_reference, max_length=ORDER_REFERENCE_MAX, required=False
    )
    if basis == ErasureBasis.COURT_ORDER and not reference:
        raise errors.InvalidInput("order_reference is required for an erasure by court order")
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.PersonalDataErased,
        basis=basis,
        order_reference=reference,
        age_at_registration=age_at_registration(person),
        actor=actor,
        occurred_at=occurred_at,
    )


def age_at_registration(person: Person) -> int | None:
    """The person's age in whole years on the day they were registered, as the occupancy
    counts reckon it: not personal data, and all the counts need once the date of birth
    can no longer be read."""
    registered_on = person.registered_at.astimezone(UTC).date()
    if person.date_of_birth is None:
        return person.estimated_age
    born = reckoned_birthday(person.date_of_birth, person.date_of_birth_precision)
    return age_on(min(born, registered_on), registered_on)


def check_not_erased(person: Person) -> None:
    if person.erased:
        raise errors.PersonalDataErased(
            f"the personal data of person {person.id} was erased", person=str(person.id)
        )


def forget_personal_data(person: Person) -> None:
    for name in PERSONAL_FIELDS:
        setattr(person, name, None)
    person.date_of_birth_precision = None
    person.erased = True
