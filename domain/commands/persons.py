"""What happens to a registered person: screening steps, holds and releases, departure,
corrections, and the merge of two registrations of one person."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from campledger.domain.commands.base import Command, Decide, Decision, Records, handles
from campledger.domain.model.person import Person
from campledger.domain.service.claims import BIOMETRIC_REFERENCE, REGISTRATION_NUMBER
from campledger.domain.service.journal import UniqueClaim
from campledger.domain.service.unit_of_work import Lookups

_ORDER = frozenset({"authority", "order_reference", "review_date"})


@dataclass(frozen=True, kw_only=True)
class PersonCommand(Command):
    """A command on one person; ``expected_version`` refuses it if the person changed."""

    person_id: UUID
    expected_version: int | None = None

    def lookups(self) -> Lookups:
        return Lookups(records=[self.person_id])


@dataclass(frozen=True, kw_only=True)
class RecordScreeningStep(PersonCommand):
    """Record one screening step's outcome; a 'held' outcome holds the person on the order
    of ``authority`` under ``order_reference``, to be reviewed by ``review_date``."""

    command_name = "record_screening_step"
    later_fields = _ORDER  # holds had no orders before
    step: str
    outcome: str
    reason: str = ""
    occurred_at: datetime | None = None
    authority: str = ""
    order_reference: str = ""
    review_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class HoldPerson(PersonCommand):
    """Hold a person for further investigation, on an authority's order."""

    command_name = "hold_person"
    later_fields = _ORDER
    reason: str
    occurred_at: datetime | None = None
    authority: str = ""
    order_reference: str = ""
    review_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class ReleasePerson(PersonCommand):
    """End a hold, on an authority's order."""

    command_name = "release_person"
    later_fields = _ORDER
    reason: str
    occurred_at: datetime | None = None
    authority: str = ""
    order_reference: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordDeparture(PersonCommand):
    """A person leaves the caseload (resettled, returned, deceased, ...)."""

    command_name = "record_departure"
    reason: str
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectDetail(PersonCommand):
    """Fix a mistaken detail; the original value stays in the history. With
    ``family_tracing`` a household id is set as family tracing (see ``Person.correct``);
    who may do that, across sites, is the caller's to decide."""

    command_name = "correct_detail"
    later_fields = frozenset({"family_tracing"})
    field: str
    value: Any
    reason: str
    occurred_at: datetime | None = None
    family_tracing: bool = False


@dataclass(frozen=True, kw_only=True)
class MergePersons(Command):
    """Two registrations are one person: the duplicate is merged into the survivor.

    The duplicate keeps its registration number and biometric reference claims: the values
    still lead to its record (and from there to the survivor), and nobody else may be
    registered with them. A correction of the survivor may take them over.
    """

    command_name = "merge_persons"
    duplicate_id: UUID
    survivor_id: UUID
    reason: str
    occurred_at: datetime | None = None


P = TypeVar("P", bound=PersonCommand)


def _on_person(change: Callable[[Person, P, str, datetime], None]) -> Decide[P]:
    """A handler that loads the person at the expected version and applies one change."""

    def decide(records: Records, c: P, actor: str, now: datetime) -> Decision:
        person = records.person_at_version(c.person_id, c.expected_version)
        change(person, c, actor, now)
        return Decision([person], {"person_id": str(person.id), "version": person.version})

    return decide


def _screen(person: Person, c: RecordScreeningStep, actor: str, now: datetime) -> None:
    person.record_screening_step(
        step=c.step, outcome=c.outcome, reason=c.reason, actor=actor,
        occurred_at=c.occurred_at or now, now=now, authority=c.authority,
        order_reference=c.order_reference, review_date=c.review_date,
    )  # fmt: skip


def _hold(person: Person, c: HoldPerson, actor: str, now: datetime) -> None:
    person.hold(
        reason=c.reason, actor=actor, occurred_at=c.occurred_at or now, now=now,
        authority=c.authority, order_reference=c.order_reference, review_date=c.review_date,
    )  # fmt: skip


def _release(person: Person, c: ReleasePerson, actor: str, now: datetime) -> None:
    person.release(
        reason=c.reason, actor=actor, occurred_at=c.occurred_at or now, now=now,
        authority=c.authority, order_reference=c.order_reference,
    )  # fmt: skip


def _depart(person: Person, c: RecordDeparture, actor: str, now: datetime) -> None:
    person.depart(reason=c.reason, actor=actor, occurred_at=c.occurred_at or now, now=now)


handles(RecordScreeningStep)(_on_person(_screen))
handles(HoldPerson)(_on_person(_hold))
handles(ReleasePerson)(_on_person(_release))
handles(RecordDeparture)(_on_person(_depart))


@handles(CorrectDetail)
def correct_detail(records: Records, c: CorrectDetail, actor: str, now: datetime) -> Decision:
    person = records.person_at_version(c.person_id, c.expected_version)
    previous = person.correct(
        field=c.field, value=c.value, reason=c.reason, actor=actor,
        occurred_at=c.occurred_at or now, now=now, family_tracing=c.family_tracing,
    )  # fmt: skip
    claims: list[UniqueClaim] = []
    released: list[UniqueClaim] = []
    if c.field in (REGISTRATION_NUMBER, BIOMETRIC_REFERENCE):
        current = getattr(person, c.field)
        if previous:
            released.append(UniqueClaim(c.field, previous, person.id))
        if current:
            claims.append(UniqueClaim(c.field, current, person.id))
            released.extend(_claims_of_merged_records(records, claims, person.id))
        taken = {(claim.scope, claim.value) for claim in released if claim.owner_id != person.id}
        for claim, error in records.claimed_by_others(claims):
            if (claim.scope, claim.value) not in taken:
                raise error
    return Decision(
        [person],
        {"person_id": str(person.id), "version": person.version},
        claims=claims,
        released=released,
    )


def _claims_of_merged_records(
    records: Records, claims: Iterable[UniqueClaim], survivor_id: UUID
) -> list[UniqueClaim]:
    """Claims on these values held by records merged into the survivor: a correction moves
    them to the survivor (a biometric enrolled on the duplicate, say)."""
    moved: list[UniqueClaim] = []
    for claim in claims:
        owner = records.journal.find_claim(claim.scope, claim.value)
        if owner is not None and owner != survivor_id and records.survivor_of(owner) == survivor_id:
            moved.append(UniqueClaim(claim.scope, claim.value, owner))
    return moved


@handles(MergePersons)
def merge_persons(records: Records, c: MergePersons, actor: str, now: datetime) -> Decision:
    duplicate = records.get_person(c.duplicate_id)
    survivor = records.get_person(c.survivor_id)
    duplicate.merge_into(
        survivor, reason=c.reason, actor=actor, occurred_at=c.occurred_at or now, now=now
    )
    return Decision(
        [duplicate, survivor],
        {"duplicate_id": str(duplicate.id), "survivor_id": str(survivor.id)},
    )


@dataclass(frozen=True, kw_only=True)
class ErasePersonalData(PersonCommand):
    """Erase a person's personal data (docs/data-protection.md): their key is destroyed,
    their claims on a registration number and a biometric reference are given up, and the
    erasure is recorded with its basis (``ErasureBasis``) and the order's reference."""

    command_name = "erase_personal_data"
    basis: str
    order_reference: str = ""
    occurred_at: datetime | None = None


@handles(ErasePersonalData)
def erase_personal_data(
    records: Records, c: ErasePersonalData, actor: str, now: datetime
) -> Decision:
    person = records.person_at_version(c.person_id, c.expected_version)
    released = [
        UniqueClaim(scope, value, person.id)
        for scope in (REGISTRATION_NUMBER, BIOMETRIC_REFERENCE)
        if (value := getattr(person, scope))
    ]
    person.erase_personal_data(
        basis=c.basis, order_reference=c.order_reference, actor=actor,
        occurred_at=c.occurred_at or now, now=now,
    )  # fmt: skip
    return Decision(
        [person], {"person_id": str(person.id), "version": person.version}, released=released
    )
