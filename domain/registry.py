"""The Registry: campledger's command side (the service layer).

Each command loads the aggregates it needs, lets them check their rules and
record events, and saves everything it changed in one ``save()``: one
transaction, all or nothing. Commands return what they created and the log
position of their last event, so a client can ask the read side to catch up
to its own write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4

import orjson
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper, Recording
from eventsourcing.popo import POPOFactory

from domain import errors
from domain.arrival import Arrival, check_registration_number
from domain.duplicates import DuplicatePair, pair_id
from domain.journal import CommandJournal, IdempotencyRecord, UniqueClaim
from domain.memory import InMemoryRecorder
from domain.person import Person
from domain.site import Site, check_site_code, site_id
from domain.transfer import MAX_MANIFEST, Transfer
from domain.unit_of_work import StagingRepository, StepFailed, UnitOfWork, active_unit
from domain.values import check_occurred_at, check_storable

MAX_BATCH = 1_000
# A unit of work that lost a race is decided again from what is stored now; past this
# many tries the clients keep colliding and one of them should come back later.
UNIT_ATTEMPTS = 3

REGISTRATION_NUMBER = "registration_number"
BIOMETRIC_REFERENCE = "biometric_reference"

A = TypeVar("A", bound=Aggregate)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command did: its result fields and the log position of its last event.

    ``replayed`` is true when the idempotency key had been seen and nothing was written.
    """

    result: dict[str, Any]
    position: int
    replayed: bool = False


@dataclass
class _Decision:
    aggregates: list[Aggregate]
    result: dict[str, Any]
    claims: list[UniqueClaim] = field(default_factory=list)
    released: list[UniqueClaim] = field(default_factory=list)


def fingerprint(command: str, payload: dict[str, Any]) -> str:
    """A stable digest of a command and its payload, to recognise a retried request."""
    try:
        body = orjson.dumps(
            {"command": command, "payload": payload},
            option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
            default=str,
        )
    except orjson.JSONEncodeError:
        # What orjson refuses (a whole number beyond 64 bits, a lone surrogate, nesting
        # past its limit) is what no event may carry either: the caller's input, not a 500.
        raise errors.UnstorableValue("the command holds a value that cannot be stored") from None
    return hashlib.sha256(body).hexdigest()


class Registry(Application[UUID]):
    name = "Registry"

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env)
        self.clock = clock

    # --- infrastructure choices -------------------------------------------------------

    def construct_mapper(self) -> Mapper[UUID]:
        from domain.codec import FastMapper

        return FastMapper()

    def construct_recorder(self) -> Any:
        # The library's in-memory factory ignores APPLICATION_RECORDER_TOPIC; the domain
        # tests still need claims and idempotency, so the in-memory recorder is chosen here.
        if isinstance(self.factory, POPOFactory):
            return InMemoryRecorder()
        return super().construct_recorder()

    def construct_repository(self) -> Repository[UUID]:
        return StagingRepository(super().construct_repository(), owner=self)

    def save(self, *objs: Aggregate, **kwargs: Any) -> list[Recording[UUID]]:  # type: ignore[override]
        """Save aggregates with their pending events in one transaction.

        The same steps as ``Application.save``, minus its runtime protocol checks on
        every object: commands only ever save campledger aggregates, and those checks
        cost more than encoding the events in a batch of 1,000 registrations.

        Inside a unit of work (``apply_together``) nothing is written: the changes are
        staged in the unit, which is saved as a whole at its end.
        """
        unit = active_unit(self)
        if unit is not None:
            unit.stage(objs, **kwargs)
            return []
        processing = ProcessingEvent[UUID]()
        for aggregate in objs:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
        processing.saved_kwargs.update(kwargs)
        return self._store(processing)

    def _store(self, processing: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    @property
    def journal(self) -> CommandJournal:
        journal = cast(CommandJournal, self.recorder)
        unit = active_unit(self)
        return journal if unit is None else unit

    # --- units of work ------------------------------------------------------------------

    def apply_together(
        self, steps: Sequence[Callable[[], CommandResult]], keys: Sequence[tuple[str, str]] = ()
    ) -> list[CommandResult]:
        """Apply commands all or nothing: each step calls one command, decided against what
        the steps before it did; everything is saved in one transaction at the end.

        A step that raises stops the unit with ``StepFailed`` (its index and error), and
        nothing is saved. A step whose idempotency key was seen before is a replay, as
        when it runs alone. If a concurrent writer gets in first, the steps are decided
        again from what is stored now (a concurrent retry of the same unit then replays).
        ``keys``, the (actor, idempotency key) pairs the steps use, are looked up at once.
        """
        outcomes = self._apply_unit(steps, keys, refusals=())
        return [cast(CommandResult, outcome) for outcome in outcomes]

    def apply_each(
        self,
        steps: Sequence[Callable[[], CommandResult]],
        keys: Sequence[tuple[str, str]] = (),
        refusals: tuple[type[Exception], ...] = (errors.DomainError,),
    ) -> list[CommandResult | Exception]:
        """Apply each command on its own merits, in order, and save the applied ones in one
        transaction: a step that raises one of ``refusals`` is left out (its error takes
        its place in the outcomes) and the steps after it go on without it. Any other
        error stops the unit with ``StepFailed``; nothing is saved.

        One transaction instead of one per command: the same outcome as applying them one
        by one, at a fraction of the commits.
        """
        return self._apply_unit(steps, keys, refusals=refusals)

    def _apply_unit(
        self,
        steps: Sequence[Callable[[], CommandResult]],
        keys: Sequence[tuple[str, str]],
        refusals: tuple[type[Exception], ...],
    ) -> list[CommandResult | Exception]:
        for _attempt in range(UNIT_ATTEMPTS):
            unit = UnitOfWork(self, cast(CommandJournal, self.recorder))
            unit.prefetch_commands(keys)
            outcomes: list[CommandResult | Exception] = []
            with unit.active():
                for index, step in enumerate(steps):
                    unit.begin(index)
                    try:
                        outcomes.append(step())
                    except refusals as refused:
                        unit.discard()
                        outcomes.append(refused)
                    except Exception as error:
                        if unit.is_stale():
                            break
                        raise StepFailed(index, error) from error
            if len(outcomes) < len(steps) or (
                any(isinstance(o, Exception) for o in outcomes) and unit.is_stale()
            ):
                # Someone else (a concurrent resend of this very batch, say) used one of
                # the keys meanwhile: what was refused may be a replay. Decide again.
                continue
            if unit.is_empty:
                return outcomes
            try:
                recordings = self._store(unit.processing_event())
            except IntegrityError:
                continue
            positions = unit.positions([r.notification.id for r in recordings])
            return [
                replace(outcome, position=positions[index])
                if isinstance(outcome, CommandResult) and index in positions
                else outcome
                for index, outcome in enumerate(outcomes)
            ]
        raise errors.ConcurrentChange(
            "other commands kept changing these records while this batch was being applied; "
            "retry it"
        )

    # --- loading ------------------------------------------------------------------

    def _get(self, cls: type[A], aggregate_id: UUID, not_found: errors.DomainError) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise not_found from None
        if not isinstance(aggregate, cls):
            raise not_found
        return aggregate

    def get_site(self, code: str) -> Site:
        return self._get(Site, site_id(code), errors.SiteNotFound(f"no site with code {code}"))

    def get_open_site(self, code: str) -> Site:
        site = self.get_site(code)
        site.check_open()
        return site

    def get_person(self, person_id: UUID) -> Person:
        return self._get(Person, person_id, errors.PersonNotFound(f"no person with id {person_id}"))

    def get_transfer(self, transfer_id: UUID) -> Transfer:
        return self._get(
            Transfer, transfer_id, errors.TransferNotFound(f"no transfer with id {transfer_id}")
        )

    def _person_at_version(self, person_id: UUID, expected_version: int | None) -> Person:
        person = self.get_person(person_id)
        if expected_version is not None and person.version != expected_version:
            raise errors.ConcurrentChange(
                f"person {person_id} has changed since version {expected_version}",
                person=str(person_id),
                version=person.version,
            )
        return person

    # --- the command pipeline -------------------------------------------------------

    def _execute(
        self,
        command: str,
        payload: dict[str, Any],
        *,
        actor: str,
        idempotency_key: str | None,
        decide: Callable[[datetime], _Decision],
        on_conflict: Callable[[], None] | None = None,
    ) -> CommandResult:
        if not actor:
            raise errors.InvalidInput("every command needs an authenticated actor")
        # The actor is on every event and the key in the journal: stored text, like any
        # other (the CLI's --actor reaches here unchecked by any schema).
        check_storable("actor", actor)
        if idempotency_key:
            check_storable("idempotency key", idempotency_key)
        digest = fingerprint(command, payload) if idempotency_key else ""
        if idempotency_key:
            if len(idempotency_key) > 200:
                raise errors.InvalidInput("idempotency key is longer than 200 characters")
            replay = self._replay(actor, idempotency_key, command, digest)
            if replay is not None:
                return replay
        try:
            decision = decide(self.clock())
        except errors.DomainError:
            # A copy of this request sent at the same moment may have been saved between
            # the look-up above and this decision, which its own event now refuses (the
            # site exists, the person is held): the caller gets that copy's result.
            if idempotency_key:
                replay = self._replay(actor, idempotency_key, command, digest)
                if replay is not None:
                    return replay
            raise
        record = None
        if idempotency_key:
            record = IdempotencyRecord(
                actor=actor,
                key=idempotency_key,
                command=command,
                fingerprint=digest,
                result=decision.result,
            )
        try:
            recordings = self.save(
                *decision.aggregates,
                claims=decision.claims,
                released=decision.released,
                idempotency=record,
            )
        except IntegrityError:
            return self._explain_integrity_error(
                actor, idempotency_key, command, digest, decision, on_conflict
            )
        position = max((r.notification.id for r in recordings), default=0)
        return CommandResult(result=decision.result, position=position)

    def _replay(self, actor: str, key: str, command: str, digest: str) -> CommandResult | None:
        stored = self.journal.find_command(actor, key)
        if stored is None:
            return None
        if stored.command != command or stored.fingerprint != digest:
            raise errors.IdempotencyKeyReused(
                "this idempotency key was already used for a different request"
            )
        return CommandResult(result=stored.result, position=stored.position, replayed=True)

    def _explain_integrity_error(
        self,
        actor: str,
        key: str | None,
        command: str,
        digest: str,
        decision: _Decision,
        on_conflict: Callable[[], None] | None,
    ) -> CommandResult:
        """Turn the store's refusal into the rule that was broken."""
        if key:
            replay = self._replay(actor, key, command, digest)
            if replay is not None:
                # A concurrent retry of the same request won: the client gets its result.
                return replay
        if on_conflict is not None:
            on_conflict()
        duplicates = self._claimed_by_others(decision.claims)
        if duplicates:
            raise duplicates[0][1]
        raise errors.ConcurrentChange(
            "the record changed while this command was being applied; reload and retry"
        )

    def _claimed_by_others(
        self, claims: Iterable[UniqueClaim]
    ) -> list[tuple[UniqueClaim, errors.DomainError]]:
        found: list[tuple[UniqueClaim, errors.DomainError]] = []
        for claim in claims:
            owner = self.journal.find_claim(claim.scope, claim.value)
            if owner is not None and owner != claim.owner_id:
                found.append((claim, _duplicate_error(claim.scope, self._survivor_of(owner))))
        return found

    def _survivor_of(self, person_id: UUID) -> UUID:
        """The record that stands for this person now: itself, or the record it was merged
        into. A merged record keeps its claims, so the holder of a value may be one."""
        for _ in range(100):  # merges form chains, never cycles; the bound is a guard only
            try:
                found: Aggregate = self.repository.get(person_id)
            except AggregateNotFoundError:
                return person_id
            survivor = getattr(found, "merged_into", None)
            if not isinstance(found, Person) or survivor is None:
                return person_id
            person_id = survivor
        return person_id

    # --- sites --------------------------------------------------------------------------

    def open_site(
        self,
        *,
        code: str,
        name: str,
        kind: str,
        capacity: int,
        admin1_pcode: str | None = None,
        admin2_pcode: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Open a site (reception point, screening centre, transit site, camp, ...)."""
        payload = {
            "code": code,
            "name": name,
            "kind": kind,
            "capacity": capacity,
            "admin1_pcode": admin1_pcode,
            "admin2_pcode": admin2_pcode,
            "latitude": latitude,
            "longitude": longitude,
            "occurred_at": occurred_at,
        }

        def already_exists() -> None:
            raise errors.SiteAlreadyExists(f"a site with code {code} already exists")

        def decide(now: datetime) -> _Decision:
            check_site_code(code)
            if site_id(code) in self.repository:
                already_exists()
            site = Site.open(
                code=code,
                name=name,
                kind=kind,
                capacity=capacity,
                admin1_pcode=admin1_pcode,
                admin2_pcode=admin2_pcode,
                latitude=latitude,
                longitude=longitude,
                actor=actor,
                occurred_at=occurred_at or now,
                now=now,
            )
            return _Decision([site], {"site_code": site.code, "site_id": str(site.id)})

        return self._execute(
            "open_site",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
            on_conflict=already_exists,
        )

    def change_site_capacity(
        self,
        *,
        code: str,
        capacity: int,
        reason: str = "",
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Change how many people a site can host."""
        payload = {"code": code, "capacity": capacity, "reason": reason, "occurred_at": occurred_at}

        def decide(now: datetime) -> _Decision:
            site = self.get_site(code)
            site.change_capacity(
                capacity=capacity,
                reason=reason,
                actor=actor,
                occurred_at=occurred_at or now,
                now=now,
            )
            return _Decision([site], {"site_code": code, "capacity": site.capacity})

        return self._execute(
            "change_site_capacity",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def close_site(
        self,
        *,
        code: str,
        reason: str = "",
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Close a site: it receives no more arrivals or transfers."""
        payload = {"code": code, "reason": reason, "occurred_at": occurred_at}

        def decide(now: datetime) -> _Decision:
            site = self.get_site(code)
            site.close(reason=reason, actor=actor, occurred_at=occurred_at or now, now=now)
            return _Decision([site], {"site_code": code})

        return self._execute(
            "close_site",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    # --- arrivals ---------------------------------------------------------------------

    def register_arrival(
        self,
        *,
        site_code: str,
        arrival: Arrival,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Register one person arriving at a site."""
        payload = {"site_code": site_code, "arrival": _arrival_payload(arrival)}

        def decide(now: datetime) -> _Decision:
            self.get_open_site(site_code)
            person = self._new_person(site_code, arrival, actor, now)
            claims = _claims_of(person)
            for _claim, error in self._claimed_by_others(claims):
                raise error
            return _Decision([person], {"person_id": str(person.id)}, claims=claims)

        return self._execute(
            "register_arrival",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def register_arrivals(
        self,
        *,
        site_code: str,
        arrivals: Sequence[Arrival],
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Register a batch (a truckload) of arrivals: all of them, or none.

        A refused batch raises ``BatchRejected`` whose ``details['items']`` names every
        bad item by its index, with the rule it broke: ``BatchConflict`` when every one of
        them is refused only for what is already recorded.
        """
        if len(arrivals) > MAX_BATCH:
            raise errors.BatchTooLarge(f"a batch holds at most {MAX_BATCH} arrivals")
        if not arrivals:
            raise errors.InvalidInput("a batch holds at least one arrival")
        payload = {"site_code": site_code, "arrivals": [_arrival_payload(a) for a in arrivals]}

        def decide(now: datetime) -> _Decision:
            self.get_open_site(site_code)
            persons: list[Person] = []
            problems: list[dict[str, Any]] = []
            # Whether each problem is a conflict with what is recorded (an id already
            # registered), not a fault of the request itself.
            recorded: list[bool] = []
            seen: dict[tuple[str, str], int] = {}
            for index, arrival in enumerate(arrivals):
                try:
                    person = self._new_person(site_code, arrival, actor, now)
                except errors.DomainError as error:
                    problems.append(_problem(index, error))
                    recorded.append(error.kind is errors.ErrorKind.CONFLICT)
                    continue
                for claim in _claims_of(person):
                    first = seen.setdefault((claim.scope, claim.value), index)
                    if first != index:
                        # One number twice in one batch: the batch contradicts itself.
                        problems.append(_problem(index, _duplicate_in_batch(claim.scope, first)))
                        recorded.append(False)
                persons.append(person)
            if problems:
                raise _batch_rejected(problems, conflict=all(recorded))
            return _Decision(
                list(persons),
                {"person_ids": [str(p.id) for p in persons]},
                claims=[c for p in persons for c in _claims_of(p)],
            )

        def explain_conflict() -> None:
            # The store refused a claim: find which items hold a taken value.
            decision_claims = [(i, c) for i, a in enumerate(arrivals) for c in _arrival_claims(a)]
            problems = [
                _problem(i, error)
                for i, c in decision_claims
                for _, error in self._claimed_by_others([c])
            ]
            if problems:
                raise _batch_rejected(problems, conflict=True)

        return self._execute(
            "register_arrivals",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
            on_conflict=explain_conflict,
        )

    def _new_person(self, site_code: str, arrival: Arrival, actor: str, now: datetime) -> Person:
        valid = arrival.validate(now.date())
        if valid.person_id is not None and valid.person_id in self.repository:
            # A device that minted this id offline already synced it (or reused one).
            raise errors.PersonAlreadyRegistered(
                f"a person with id {valid.person_id} is already registered",
                existing_person=str(valid.person_id),
            )
        occurred_at = valid.occurred_at or now
        check_occurred_at(occurred_at, now, None)
        return Person.register(
            person_id=valid.person_id or uuid4(),
            arrival=valid,
            site_code=site_code,
            actor=actor,
            now=now,
        )

    # --- screening, holding, departure ----------------------------------------------

    def _person_command(
        self,
        command: str,
        person_id: UUID,
        payload: dict[str, Any],
        change: Callable[[Person, datetime], None],
        *,
        actor: str,
        idempotency_key: str | None,
        expected_version: int | None,
    ) -> CommandResult:
        payload = {"person_id": person_id, "expected_version": expected_version, **payload}

        def decide(now: datetime) -> _Decision:
            person = self._person_at_version(person_id, expected_version)
            change(person, now)
            return _Decision([person], {"person_id": str(person.id), "version": person.version})

        return self._execute(
            command,
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def record_screening_step(
        self,
        *,
        person_id: UUID,
        step: str,
        outcome: str,
        reason: str = "",
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
        authority: str = "",
        order_reference: str = "",
        review_date: date | None = None,
    ) -> CommandResult:
        """Record one screening step's outcome; a 'held' outcome holds the person on the
        order of ``authority`` under ``order_reference``, to be reviewed by ``review_date``."""
        payload: dict[str, Any] = {
            "step": step,
            "outcome": outcome,
            "reason": reason,
            "occurred_at": occurred_at,
        }
        # Only when given: a retried step keeps the fingerprint it had before holds had orders.
        payload.update(_given(authority=authority, order_reference=order_reference,
                              review_date=review_date))  # fmt: skip
        return self._person_command(
            "record_screening_step",
            person_id,
            payload,
            lambda p, now: p.record_screening_step(
                step=step,
                outcome=outcome,
                reason=reason,
                actor=actor,
                occurred_at=occurred_at or now,
                now=now,
                authority=authority,
                order_reference=order_reference,
                review_date=review_date,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
            expected_version=expected_version,
        )

    def hold_person(
        self,
        *,
        person_id: UUID,
        reason: str,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
        authority: str = "",
        order_reference: str = "",
        review_date: date | None = None,
    ) -> CommandResult:
        """Hold a person for further investigation, on an authority's order."""
        order = _given(authority=authority, order_reference=order_reference,
                       review_date=review_date)  # fmt: skip
        return self._person_command(
            "hold_person",
            person_id,
            {"reason": reason, "occurred_at": occurred_at, **order},
            lambda p, now: p.hold(
                reason=reason,
                actor=actor,
                occurred_at=occurred_at or now,
                now=now,
                authority=authority,
                order_reference=order_reference,
                review_date=review_date,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
            expected_version=expected_version,
        )

    def release_person(
        self,
        *,
        person_id: UUID,
        reason: str,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
        authority: str = "",
        order_reference: str = "",
    ) -> CommandResult:
        """End a hold, on an authority's order."""
        order = _given(authority=authority, order_reference=order_reference)
        return self._person_command(
            "release_person",
            person_id,
            {"reason": reason, "occurred_at": occurred_at, **order},
            lambda p, now: p.release(
                reason=reason,
                actor=actor,
                occurred_at=occurred_at or now,
                now=now,
                authority=authority,
                order_reference=order_reference,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
            expected_version=expected_version,
        )

    def record_departure(
        self,
        *,
        person_id: UUID,
        reason: str,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> CommandResult:
        """A person leaves the caseload (resettled, returned, deceased, ...)."""
        return self._person_command(
            "record_departure",
            person_id,
            {"reason": reason, "occurred_at": occurred_at},
            lambda p, now: p.depart(
                reason=reason, actor=actor, occurred_at=occurred_at or now, now=now
            ),
            actor=actor,
            idempotency_key=idempotency_key,
            expected_version=expected_version,
        )

    # --- corrections and merges -------------------------------------------------------

    def correct_detail(
        self,
        *,
        person_id: UUID,
        field: str,
        value: Any,
        reason: str,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
        family_tracing: bool = False,
    ) -> CommandResult:
        """Fix a mistaken detail; the original value stays in the history. With
        ``family_tracing`` a household id is set as family tracing (see ``Person.correct``);
        who may do that, across sites, is the caller's to decide."""
        payload = {
            "person_id": person_id,
            "field": field,
            "value": value,
            "reason": reason,
            "occurred_at": occurred_at,
            "expected_version": expected_version,
        }
        if family_tracing:
            # Only when set: a retried correction keeps the fingerprint it had before.
            payload["family_tracing"] = True

        def decide(now: datetime) -> _Decision:
            person = self._person_at_version(person_id, expected_version)
            previous = person.correct(
                field=field,
                value=value,
                reason=reason,
                actor=actor,
                occurred_at=occurred_at or now,
                now=now,
                family_tracing=family_tracing,
            )
            claims: list[UniqueClaim] = []
            released: list[UniqueClaim] = []
            if field in (REGISTRATION_NUMBER, BIOMETRIC_REFERENCE):
                current = getattr(person, field)
                if previous:
                    released.append(UniqueClaim(field, previous, person.id))
                if current:
                    claims.append(UniqueClaim(field, current, person.id))
                    released.extend(self._claims_of_merged_records(claims, person.id))
                taken = {(c.scope, c.value) for c in released if c.owner_id != person.id}
                for claim, error in self._claimed_by_others(claims):
                    if (claim.scope, claim.value) not in taken:
                        raise error
            return _Decision(
                [person],
                {"person_id": str(person.id), "version": person.version},
                claims=claims,
                released=released,
            )

        return self._execute(
            "correct_detail",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def _claims_of_merged_records(
        self, claims: Iterable[UniqueClaim], survivor_id: UUID
    ) -> list[UniqueClaim]:
        """Claims on these values held by records merged into the survivor: a correction
        moves them to the survivor (a biometric enrolled on the duplicate, say)."""
        moved: list[UniqueClaim] = []
        for claim in claims:
            owner = self.journal.find_claim(claim.scope, claim.value)
            if (
                owner is not None
                and owner != survivor_id
                and self._survivor_of(owner) == survivor_id
            ):
                moved.append(UniqueClaim(claim.scope, claim.value, owner))
        return moved

    def merge_persons(
        self,
        *,
        duplicate_id: UUID,
        survivor_id: UUID,
        reason: str,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Two registrations are one person: the duplicate is merged into the survivor.

        The duplicate keeps its registration number and biometric reference claims: the
        values still lead to its record (and from there to the survivor), and nobody else
        may be registered with them. A correction of the survivor may take them over.
        """
        payload = {
            "duplicate_id": duplicate_id,
            "survivor_id": survivor_id,
            "reason": reason,
            "occurred_at": occurred_at,
        }

        def decide(now: datetime) -> _Decision:
            duplicate = self.get_person(duplicate_id)
            survivor = self.get_person(survivor_id)
            duplicate.merge_into(
                survivor, reason=reason, actor=actor, occurred_at=occurred_at or now, now=now
            )
            return _Decision(
                [duplicate, survivor],
                {"duplicate_id": str(duplicate.id), "survivor_id": str(survivor.id)},
            )

        return self._execute(
            "merge_persons",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def dismiss_duplicate(
        self,
        *,
        person_id: UUID,
        other_id: UUID,
        reason: str,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """A reviewer judged two records proposed as duplicates to be two people: the pair
        is not proposed again. Either order of the two ids names the same pair."""
        payload = {
            "person_id": person_id,
            "other_id": other_id,
            "reason": reason,
            "occurred_at": occurred_at,
        }

        def already_dismissed() -> None:
            raise errors.DuplicateAlreadyDismissed(
                f"the pair {person_id} / {other_id} was already dismissed",
                person=str(person_id),
                other=str(other_id),
            )

        def decide(now: datetime) -> _Decision:
            if person_id != other_id:
                for record in (self.get_person(person_id), self.get_person(other_id)):
                    if record.merged_into is not None:
                        raise errors.PersonMerged(
                            f"person {record.id} was merged into another record",
                            person=str(record.id),
                        )
                if pair_id(person_id, other_id) in self.repository:
                    already_dismissed()
            pair = DuplicatePair.dismiss(
                person_id=person_id,
                other_id=other_id,
                reason=reason,
                actor=actor,
                occurred_at=occurred_at or now,
                now=now,
            )
            return _Decision(
                [pair],
                {
                    "pair_id": str(pair.id),
                    "person_id": str(pair.person_id),
                    "other_id": str(pair.other_id),
                },
            )

        return self._execute(
            "dismiss_duplicate",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
            on_conflict=already_dismissed,
        )

    # --- transfers --------------------------------------------------------------------

    def plan_transfer(
        self,
        *,
        origin: str,
        destination: str,
        manifest: Sequence[UUID],
        vehicle: str = "",
        order_reference: str = "",
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
        transfer_id: UUID | None = None,
    ) -> CommandResult:
        """Plan a movement between two sites; every person on the manifest is reserved for it."""
        if len(manifest) > MAX_MANIFEST:
            raise errors.BatchTooLarge(f"a manifest lists at most {MAX_MANIFEST} persons")
        payload = {
            "origin": origin,
            "destination": destination,
            "manifest": list(manifest),
            "vehicle": vehicle,
            "order_reference": order_reference,
            "occurred_at": occurred_at,
            "transfer_id": transfer_id,
        }

        def decide(now: datetime) -> _Decision:
            when = occurred_at or now
            if transfer_id is not None and transfer_id in self.repository:
                # Without this check the store refuses the save as if another writer had
                # got in first, and a device's queue would retry it for ever.
                raise errors.TransferIdTaken(
                    f"the id {transfer_id} is already taken by another record; "
                    "plan the transfer under a new id",
                    transfer=str(transfer_id),
                )
            self.get_open_site(origin)
            arriving_at = self.get_open_site(destination)
            Transfer.check_manifest(origin, destination, tuple(manifest))
            persons = [self.get_person(pid) for pid in manifest]
            # Whoever is held now travels in custody; each person checks that custody can
            # be kept at the destination (a holding facility or a hospital).
            transfer = Transfer.plan(
                transfer_id=transfer_id or uuid4(),
                origin=origin,
                destination=destination,
                manifest=tuple(manifest),
                vehicle=vehicle,
                order_reference=order_reference,
                actor=actor,
                occurred_at=when,
                now=now,
                custody=tuple(p.id for p in persons if p.held),
            )
            for person in persons:
                person.place_on_manifest(
                    transfer_id=transfer.id,
                    origin=origin,
                    destination=destination,
                    destination_kind=arriving_at.kind,
                    actor=actor,
                    occurred_at=when,
                    now=now,
                )
            return _Decision([transfer, *persons], {"transfer_id": str(transfer.id)})

        return self._execute(
            "plan_transfer",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def dispatch_transfer(
        self,
        *,
        transfer_id: UUID,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """The vehicle has left the origin with everyone on the manifest."""
        payload = {"transfer_id": transfer_id, "occurred_at": occurred_at}

        def decide(now: datetime) -> _Decision:
            when = occurred_at or now
            transfer = self.get_transfer(transfer_id)
            transfer.dispatch(actor=actor, occurred_at=when, now=now)
            destination_kind = self.get_site(transfer.destination).kind
            persons = [self.get_person(pid) for pid in transfer.manifest]
            for person in persons:
                person.dispatch(
                    transfer_id=transfer.id,
                    origin=transfer.origin,
                    destination=transfer.destination,
                    destination_kind=destination_kind,
                    in_custody=person.id in transfer.custody,
                    actor=actor,
                    occurred_at=when,
                    now=now,
                )
            return _Decision([transfer, *persons], {"transfer_id": str(transfer.id)})

        return self._execute(
            "dispatch_transfer",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def receive_transfer(
        self,
        *,
        transfer_id: UUID,
        site_code: str,
        persons: Sequence[UUID],
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Check persons in at the destination. When the last one is in, the transfer
        reconciles itself with nobody unaccounted for."""
        payload = {
            "transfer_id": transfer_id,
            "site_code": site_code,
            "persons": list(persons),
            "occurred_at": occurred_at,
        }

        def decide(now: datetime) -> _Decision:
            when = occurred_at or now
            transfer = self.get_transfer(transfer_id)
            self.get_open_site(site_code)
            transfer.receive(
                site_code=site_code,
                persons=tuple(persons),
                actor=actor,
                occurred_at=when,
                now=now,
            )
            travellers = [self.get_person(pid) for pid in persons]
            for person in travellers:
                person.receive(
                    transfer_id=transfer.id,
                    site_code=site_code,
                    actor=actor,
                    occurred_at=when,
                    now=now,
                )
            if transfer.is_complete and transfer.state.value == "dispatched":
                transfer.reconcile(actor=actor, occurred_at=when, now=now)
            return _Decision(
                [transfer, *travellers],
                {
                    "transfer_id": str(transfer.id),
                    "state": transfer.state.value,
                    "missing": [str(p) for p in transfer.missing],
                },
            )

        return self._execute(
            "receive_transfer",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def reconcile_transfer(
        self,
        *,
        transfer_id: UUID,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Close a transfer: whoever was dispatched but not received is unaccounted for."""
        payload = {"transfer_id": transfer_id, "occurred_at": occurred_at}

        def decide(now: datetime) -> _Decision:
            when = occurred_at or now
            transfer = self.get_transfer(transfer_id)
            missing = transfer.reconcile(actor=actor, occurred_at=when, now=now)
            persons = [self.get_person(pid) for pid in missing]
            for person in persons:
                person.mark_unaccounted_for(
                    transfer_id=transfer.id, actor=actor, occurred_at=when, now=now
                )
            return _Decision(
                [transfer, *persons],
                {"transfer_id": str(transfer.id), "unaccounted_for": [str(p) for p in missing]},
            )

        return self._execute(
            "reconcile_transfer",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )

    def cancel_transfer(
        self,
        *,
        transfer_id: UUID,
        reason: str,
        occurred_at: datetime | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Cancel a planned transfer; everyone on its manifest is free to move again."""
        payload = {"transfer_id": transfer_id, "reason": reason, "occurred_at": occurred_at}

        def decide(now: datetime) -> _Decision:
            when = occurred_at or now
            transfer = self.get_transfer(transfer_id)
            transfer.cancel(reason=reason, actor=actor, occurred_at=when, now=now)
            persons = [self.get_person(pid) for pid in transfer.manifest]
            for person in persons:
                person.remove_from_manifest(
                    transfer_id=transfer.id,
                    reason="transfer cancelled",
                    actor=actor,
                    occurred_at=max(when, person.last_occurred_at),
                    now=now,
                )
            return _Decision([transfer, *persons], {"transfer_id": str(transfer.id)})

        return self._execute(
            "cancel_transfer",
            payload,
            actor=actor,
            idempotency_key=idempotency_key,
            decide=decide,
        )


_ARRIVAL_FIELDS = tuple(f.name for f in fields(Arrival))


def _given(**values: Any) -> dict[str, Any]:
    """The values that were given (not empty): fields added to a command later join its
    fingerprint only when used, so a request retried across an upgrade still replays."""
    return {name: value for name, value in values.items() if value}


def _arrival_payload(arrival: Arrival) -> dict[str, Any]:
    # Arrival fields are flat values: a shallow dict fingerprints the same as asdict()
    # at a fraction of the cost, which matters for batches of 1,000.
    return {name: getattr(arrival, name) for name in _ARRIVAL_FIELDS}


def _claims_of(person: Person) -> list[UniqueClaim]:
    claims = [UniqueClaim(REGISTRATION_NUMBER, person.registration_number, person.id)]
    if person.biometric_reference:
        claims.append(UniqueClaim(BIOMETRIC_REFERENCE, person.biometric_reference, person.id))
    return claims


def _arrival_claims(arrival: Arrival) -> list[UniqueClaim]:
    # Only used to name the items of a refused batch: the owner id is unknown here.
    nobody = UUID(int=0)
    # The number as it was claimed: in its one stored form (full-width folded, and so on).
    number = check_registration_number(arrival.registration_number)
    claims = [UniqueClaim(REGISTRATION_NUMBER, number, nobody)]
    if arrival.biometric_reference and arrival.biometric_reference.strip():
        claims.append(UniqueClaim(BIOMETRIC_REFERENCE, arrival.biometric_reference.strip(), nobody))
    return claims


def _duplicate_error(scope: str, owner: UUID) -> errors.DomainError:
    if scope == BIOMETRIC_REFERENCE:
        return errors.DuplicateBiometricReference(
            "this biometric reference is already registered to another person",
            existing_person=str(owner),
        )
    return errors.DuplicateRegistrationNumber(
        "this registration number is already registered to another person",
        existing_person=str(owner),
    )


def _duplicate_in_batch(scope: str, first_index: int) -> errors.DomainError:
    error = _duplicate_error(scope, UUID(int=0))
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
