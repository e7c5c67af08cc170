"""Error messages and details end up in logs and problem bodies: no personal data in them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest

from campledger.domain.model import errors
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, FIXED_NOW, arrival, dispatched, plan, register

GIVEN = "Zainabou"
FAMILY = "Qureshi-Ndiaye"
BIOMETRIC = "BIOREF-7731-SECRET"
BORN = date(1987, 11, 23)
PERSONAL = (GIVEN, FAMILY, BIOMETRIC, BORN.isoformat())


def someone(registry: Registry, **overrides: object) -> UUID:
    return register(
        registry,
        given_name=GIVEN,
        family_name=FAMILY,
        biometric_reference=BIOMETRIC,
        date_of_birth=BORN,
        **overrides,
    )


Failure = Callable[[Registry], object]

FAILURES: dict[str, Failure] = {
    "duplicate biometric": lambda r: (
        someone(r),
        r.register_arrival(
            site_code="RC-1",
            arrival=arrival(given_name=GIVEN, family_name=FAMILY, biometric_reference=BIOMETRIC),
            actor=ACTOR,
        ),
    ),
    "duplicate biometric in batch": lambda r: r.register_arrivals(
        site_code="RC-1",
        arrivals=[arrival(biometric_reference=BIOMETRIC, given_name=GIVEN) for _ in range(2)],
        actor=ACTOR,
    ),
    "batch with invalid items": lambda r: r.register_arrivals(
        site_code="RC-1",
        arrivals=[
            arrival(given_name=GIVEN, family_name=FAMILY, sex=GIVEN),
            arrival(given_name=GIVEN, nationality=FAMILY[:3], biometric_reference=BIOMETRIC),
            arrival(given_name=GIVEN, relationship=FAMILY, specific_needs=(GIVEN,)),
            arrival(given_name=GIVEN * 50),
        ],
        actor=ACTOR,
    ),
    "future date of birth": lambda r: r.register_arrival(
        site_code="RC-1",
        arrival=arrival(given_name=GIVEN, date_of_birth=FIXED_NOW.date() + timedelta(days=1)),
        actor=ACTOR,
    ),
    "correction to a taken biometric": lambda r: (
        someone(r),
        r.correct_detail(
            person_id=register(r),
            field="biometric_reference",
            value=BIOMETRIC,
            reason="x",
            actor=ACTOR,
        ),
    ),
    "invalid corrected name": lambda r: r.correct_detail(
        person_id=someone(r), field="given_name", value=GIVEN * 50, reason="x", actor=ACTOR
    ),
    "invalid corrected date of birth": lambda r: r.correct_detail(
        person_id=someone(r),
        field="date_of_birth",
        value=f"{GIVEN}-1987",
        reason="x",
        actor=ACTOR,
    ),
    "held person on a plan": lambda r: (
        r.hold_person(person_id=(p := someone(r)), reason="x", actor=ACTOR),
        plan(r, [p]),
    ),
    "person in transit held": lambda r: (
        dispatched(r, [p := someone(r)]),
        r.hold_person(person_id=p, reason="x", actor=ACTOR),
    ),
    "merged into self": lambda r: r.merge_persons(
        duplicate_id=(p := someone(r)), survivor_id=p, reason="x", actor=ACTOR
    ),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=list(FAILURES))
def test_error_messages_never_carry_personal_data(sites: Registry, failure: Failure) -> None:
    with pytest.raises(errors.DomainError) as info:
        failure(sites)
    text = " ".join([str(info.value), info.value.message, repr(info.value.details)])
    for personal in PERSONAL:
        assert personal not in text
