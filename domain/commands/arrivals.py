"""Registering arrivals: one person, or a truckload at once (all of them, or none)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from campledger.domain.commands.base import Command, Decision, Records, handles
from campledger.domain.model import errors
from campledger.domain.model.arrival import Arrival
from campledger.domain.model.person import Person
from campledger.domain.model.site import site_id
from campledger.domain.model.values import check_occurred_at
from campledger.domain.service.claims import arrival_claims, claims_of, duplicate_error
from campledger.domain.service.unit_of_work import Lookups

MAX_BATCH = 1_000


@dataclass(frozen=True, kw_only=True)
class RegisterArrival(Command):
    """Register one person arriving at a site."""

    command_name = "register_arrival"
    site_code: str
    arrival: Arrival

    def lookups(self) -> Lookups:
        try:
            claims = arrival_claims(self.arrival)
        except errors.DomainError:
            claims = []  # refused when it is decided
        minted = [self.arrival.person_id] if self.arrival.person_id else []
        return Lookups([(c.scope, c.value) for c in claims], [site_id(self.site_code), *minted])

    def payload(self) -> dict[str, Any]:
        return {"site_code": self.site_code, "arrival": arrival_payload(self.arrival)}


@dataclass(frozen=True, kw_only=True)
class RegisterArrivals(Command):
    """Register a batch (a truckload) of arrivals: all of them, or none.

    A refused batch raises ``BatchRejected`` whose ``details['items']`` names every bad
    item by its index, with the rule it broke: ``BatchConflict`` when every one of them is
    refused only for what is already recorded.
    """

    command_name = "register_arrivals"
    site_code: str
    arrivals: Sequence[Arrival]

    def check(self) -> None:
        if len(self.arrivals) > MAX_BATCH:
            raise errors.BatchTooLarge(f"a batch holds at most {MAX_BATCH} arrivals")
        if not self.arrivals:
            raise errors.InvalidInput("a batch holds at least one arrival")

    def payload(self) -> dict[str, Any]:
        return {
            "site_code": self.site_code,
            "arrivals": [arrival_payload(a) for a in self.arrivals],
        }


@handles(RegisterArrival)
def register_arrival(records: Records, c: RegisterArrival, actor: str, now: datetime) -> Decision:
    records.get_open_site(c.site_code)
    person = new_person(records, c.site_code, c.arrival, actor, now)
    claims = claims_of(person)
    records.refuse_claims_of_others(claims)
    return Decision([person], {"person_id": str(person.id)}, claims=claims)


def _explain_batch_conflict(records: Records, c: RegisterArrivals) -> None:
    # The store refused a claim: find which items hold a taken value.
    problems = [
        _problem(index, error)
        for index, arrival in enumerate(c.arrivals)
        for claim in arrival_claims(arrival)
        for _, error in records.claimed_by_others([claim])
    ]
    if problems:
        raise _batch_rejected(problems, conflict=True)


@handles(RegisterArrivals, on_conflict=_explain_batch_conflict)
def register_arrivals(records: Records, c: RegisterArrivals, actor: str, now: datetime) -> Decision:
    records.get_open_site(c.site_code)
    persons: list[Person] = []
    problems: list[dict[str, Any]] = []
    # Whether each problem is a conflict with what is recorded (an id already registered),
    # not a fault of the request itself.
    recorded: list[bool] = []
    seen: dict[tuple[str, str], int] = {}
    for index, arrival in enumerate(c.arrivals):
        try:
            person = new_person(records, c.site_code, arrival, actor, now)
        except errors.DomainError as error:
            problems.append(_problem(index, error))
            recorded.append(error.kind is errors.ErrorKind.CONFLICT)
            continue
        for claim in claims_of(person):
            first = seen.setdefault((claim.scope, claim.value), index)
            if first != index:
                # One number twice in one batch: the batch contradicts itself.
                problems.append(_problem(index, _duplicate_in_batch(claim.scope, first)))
                recorded.append(False)
        persons.append(person)
    if problems:
        raise _batch_rejected(problems, conflict=all(recorded))
    return Decision(
        list(persons),
        {"person_ids": [str(p.id) for p in persons]},
        claims=[claim for p in persons for claim in claims_of(p)],
    )


def new_person(
    records: Records, site_code: str, arrival: Arrival, actor: str, now: datetime
) -> Person:
    valid = arrival.validate(now.date())
    if valid.person_id is not None and records.exists(valid.person_id):
        # A device that minted this id offline already synced it (or reused one).
        raise errors.PersonAlreadyRegistered(
            f"a person with id {valid.person_id} is already registered",
            existing_person=str(valid.person_id),
        )
    occurred_at = valid.occurred_at or now
    check_occurred_at(occurred_at, now, None)
    return Person.register(
        person_id=valid.person_id or uuid4(), arrival=valid, site_code=site_code, actor=actor,
        now=now,
    )  # fmt: skip


_ARRIVAL_FIELDS = tuple(f.name for f in fields(Arrival))
# Arrival fields added after the first release: in the fingerprint only when given, so an
# arrival retried across the upgrade that added them still replays.
_LATER_ARRIVAL_FIELDS = frozenset(
    {"given_name_latin", "family_name_latin", "date_of_birth_precision"}
)


def arrival_payload(arrival: Arrival) -> dict[str, Any]:
    # Arrival fields are flat values: a shallow dict fingerprints the same as asdict()
    # at a fraction of the cost, which matters for batches of 1,000.
    payload = {name: getattr(arrival, name) for name in _ARRIVAL_FIELDS}
    for name in _LATER_ARRIVAL_FIELDS:
        if payload[name] is None:
            del payload[name]
    return payload


def _duplicate_in_batch(scope: str, first_index: int) -> errors.DomainError:
    error = duplicate_error(scope, UUID(int=0))
    return type(error)(
        f"the same {scope.replace('_', ' ')} appears at item {first_index} of this batch"
    )


def _problem(index: int, error: errors.DomainError) -> dict[str, Any]:
    return {"index": index, "code": error.code, "message": error.message, **error.details}


def _batch_rejected(problems: list[dict[str, Any]], *, conflict: bool) -> errors.BatchRejected:
    problems.sort(key=lambda p: p["index"])
    if conflict:
        return errors.BatchConflict(
            f"{len(problems)} of the arrivals in this batch are already registered; nothing "
            "was registered",
            items=problems,
        )
    return errors.BatchRejected(
        f"{len(problems)} of the arrivals in this batch are invalid; nothing was registered",
        items=problems,
    )
