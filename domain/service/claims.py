"""The unique values a person holds: one registration number and one biometric reference
belong to one person, which the journal enforces with a claim saved with the events."""

from __future__ import annotations

from uuid import UUID

from campledger.domain.model import errors
from campledger.domain.model.arrival import Arrival, check_registration_number
from campledger.domain.model.person import Person
from campledger.domain.service.journal import UniqueClaim

REGISTRATION_NUMBER = "registration_number"
BIOMETRIC_REFERENCE = "biometric_reference"


def claims_of(person: Person) -> list[UniqueClaim]:
    claims = [UniqueClaim(REGISTRATION_NUMBER, person.registration_number, person.id)]
    if person.biometric_reference:
        claims.append(UniqueClaim(BIOMETRIC_REFERENCE, person.biometric_reference, person.id))
    return claims


def arrival_claims(arrival: Arrival) -> list[UniqueClaim]:
    """An arrival's claims before it is a person: only to name the items of a refused
    batch (the owner id is unknown here)."""
    nobody = UUID(int=0)
    # The number as it was claimed: in its one stored form (full-width folded, and so on).
    number = check_registration_number(arrival.registration_number)
    claims = [UniqueClaim(REGISTRATION_NUMBER, number, nobody)]
    if arrival.biometric_reference and arrival.biometric_reference.strip():
        claims.append(UniqueClaim(BIOMETRIC_REFERENCE, arrival.biometric_reference.strip(), nobody))
    return claims


def duplicate_error(scope: str, owner: UUID) -> errors.DomainError:
    if scope == BIOMETRIC_REFERENCE:
        return errors.DuplicateBiometricReference(
            "this biometric reference is already registered to another person",
            existing_person=str(owner),
        )
    return errors.DuplicateRegistrationNumber(
        "this registration number is already registered to another person",
        existing_person=str(owner),
    )
