"""The Registry: campledger's command side (the service layer).

Every command (``domain.commands``: a typed value and its handler) goes through one
pipeline, ``Registry.handle``: the idempotency key is looked up, the handler loads the
aggregates it needs and lets them check their rules and record events, and everything it
changed is saved in one ``save()`` with its unique claims and the idempotency record: one
transaction, all or nothing. Commands return what they created and the log position of
their last event, so a client can ask the read side to catch up to its own write.
Several commands may be decided in order and saved together (``units``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import ProcessingEvent, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper, Recording
from eventsourcing.popo import POPOFactory

from campledger.domain.commands import (
    CancelTransfer,
    ChangeSiteCapacity,
    CloseSite,
    Command,
    CorrectDetail,
    Decision,
    DismissDuplicate,
    DispatchTransfer,
    ErasePersonalData,
    HoldPerson,
    MergePersons,
    OpenSite,
    PlanTransfer,
    ReceiveTransfer,
    ReconcileTransfer,
    RecordDeparture,
    RecordScreeningStep,
    RegisterArrival,
    RegisterArrivals,
    ReleasePerson,
    handler_for,
)
from campledger.domain.commands.base import Handler
from campledger.domain.model import errors
from campledger.domain.model.values import check_storable
from campledger.domain.persistence.codec import FastMapper
from campledger.domain.persistence.memory import InMemoryRecorder
from campledger.domain.persistence.personal_data import KeyRing, default_key_ring
from campledger.domain.service.journal import (
    IDEMPOTENCY_KEY_MAX,
    IN_FLIGHT_SECONDS,
    IdempotencyRecord,
    KeyClaims,
    StoredCommand,
    fingerprint,
)
from campledger.domain.service.results import CommandResult as CommandResult
from campledger.domain.service.unit_of_work import StagingRepository, active_unit
from campledger.domain.service.units import UnitsOfWork

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _by_keywords(command: type[Command]) -> Callable[..., CommandResult]:
    def run(
        registry: Registry, *, actor: str, idempotency_key: str | None = None, **fields: Any
    ) -> CommandResult:
        return registry.handle(command(**fields), actor=actor, idempotency_key=idempotency_key)

    run.__doc__ = command.__doc__
    return run


class Registry(UnitsOfWork):
    name = "Registry"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        *,
        key_ring: KeyRing | None = None,
    ) -> None:
        # Set before the library builds the mapper and the recorder, which both use it.
        self._given_key_ring = key_ring
        super().__init__(env)
        self.clock = clock

    # --- infrastructure choices -------------------------------------------------------

    def construct_mapper(self) -> Mapper[UUID]:
        in_memory = isinstance(self.factory, POPOFactory)
        self.key_ring = self._given_key_ring or default_key_ring(self.env, in_memory=in_memory)
        return FastMapper(key_ring=self.key_ring)

    def construct_recorder(self) -> Any:
        # The library's in-memory factory ignores APPLICATION_RECORDER_TOPIC; the domain
        # tests still need claims and idempotency, so the in-memory recorder is chosen here.
        if isinstance(self.factory, POPOFactory):
            return InMemoryRecorder()
        recorder = super().construct_recorder()
        # New persons' keys are written in the transaction of their first events, into a
        # key store that must exist (and open with the master key) before the first save.
        recorder.key_ring = self.key_ring  # type: ignore[attr-defined]
        getattr(self.key_ring, "open", lambda: None)()
        return recorder

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

    # --- the command pipeline -------------------------------------------------------

    def handle(
        self, command: Command, *, actor: str, idempotency_key: str | None = None
    ) -> CommandResult:
        """Run a command through the one pipeline: the idempotency key looked up, its
        handler's decision, and one save of the aggregates, claims and idempotency record
        (all or nothing)."""
        handler = handler_for(command)
        command.check()
        if not actor:
            raise errors.InvalidInput("every command needs an authenticated actor")
        # The actor is on every event and the key in the journal: stored text, like any
        # other (the CLI's --actor reaches here unchecked by any schema).
        check_storable("actor", actor)
        name, key = command.command_name, idempotency_key
        digest = ""
        if key:
            check_storable("idempotency key", key)
            digest = fingerprint(name, command.payload())
            if len(key) > IDEMPOTENCY_KEY_MAX:
                raise errors.InvalidInput(
                    f"idempotency key is longer than {IDEMPOTENCY_KEY_MAX} characters"
                )
            if active_unit(self) is None:
                # Alone, a command claims its key while it runs: a copy sent meanwhile is
                # told so rather than left waiting behind it. (A unit of work's steps are
                # saved together, and a copy of the unit is decided again: see _apply_unit.)
                if replay := self._claim(actor, key, name, digest):
                    return replay
                try:
                    result = self._decide_and_save(
                        handler, command, actor, key, name, digest, holding=True
                    )
                except BaseException:
                    self._release(actor, key)
                    raise
                # Saved, the key was let go in the save's transaction; answered with a
                # copy's result instead, nothing of this request's was saved.
                if result.replayed:
                    self._release(actor, key)
                return result
            if replay := self._replay(actor, key, name, digest):
                return replay
        return self._decide_and_save(handler, command, actor, key, name, digest)

    def _claim(self, actor: str, key: str, name: str, digest: str) -> CommandResult | None:
        """Claim the key for this request (None), or the result of the command already
        stored under it; refused while another request holding it is still applied."""
        claim = cast(KeyClaims, self.recorder).claim_key(actor, key, IN_FLIGHT_SECONDS)
        if claim.stored is not None:
            return self._replayed(claim.stored, name, digest)
        if claim.claimed:
            return None
        # The holder may have finished since the claim was refused.
        if replay := self._replay(actor, key, name, digest):
            return replay
        raise errors.IdempotencyKeyInFlight(
            "a request with this idempotency key is still being applied; send it again "
            "shortly to get its result"
        )

    def _release(self, actor: str, key: str) -> None:
        try:
            cast(KeyClaims, self.recorder).release_key(actor, key)
        except Exception:
            # The outcome stands, written or refused; the claim lapses after
            # IN_FLIGHT_SECONDS, and a copy of a written command replays before claiming.
            log.warning("an idempotency key's claim was not let go", exc_info=True)

    def _decide_and_save(
        self,
        handler: Handler[Any],
        command: Command,
        actor: str,
        key: str | None,
        name: str,
        digest: str,
        *,
        holding: bool = False,
    ) -> CommandResult:
        """Decide and save; ``holding``: this request holds its key in flight, and a save
        lets it go in its own transaction."""
        try:
            decision = handler.decide(self, command, actor, self.clock())
        except errors.DomainError:
            # A copy of this request sent at the same moment may have been saved between
            # the look-up above and this decision, which its own event now refuses (the
            # site exists, the person is held): the caller gets that copy's result.
            if key and (replay := self._replay(actor, key, name, digest)):
                return replay
            raise
        record = IdempotencyRecord(actor, key, name, digest, decision.result) if key else None
        holds = {"in_flight": (actor, key)} if holding and key else {}
        try:
            recordings = self.save(
                *decision.aggregates,
                claims=decision.claims,
                released=decision.released,
                idempotency=record,
                **holds,
            )
        except IntegrityError:
            explain = handler.on_conflict
            return self._explain_integrity_error(
                actor, key, name, digest, decision,
                None if explain is None else lambda: explain(self, command),
            )  # fmt: skip
        position = max((r.notification.id for r in recordings), default=0)
        return CommandResult(result=decision.result, position=position)

    def _replay(self, actor: str, key: str, command: str, digest: str) -> CommandResult | None:
        stored = self.journal.find_command(actor, key)
        return None if stored is None else self._replayed(stored, command, digest)

    @staticmethod
    def _replayed(stored: StoredCommand, command: str, digest: str) -> CommandResult:
        """The stored command's result, if this request is the same command again."""
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
        decision: Decision,
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
        duplicates = self.claimed_by_others(decision.claims)
        if duplicates:
            raise duplicates[0][1]
        raise errors.ConcurrentChange(
            "the record changed while this command was being applied; reload and retry"
        )

    # Each command also as a method taking its fields as keywords, for scripts, benchmarks
    # and tests: ``registry.open_site(code=..., actor=...)`` is
    # ``registry.handle(OpenSite(code=...), actor=...)``.
    open_site = _by_keywords(OpenSite)
    change_site_capacity = _by_keywords(ChangeSiteCapacity)
    close_site = _by_keywords(CloseSite)
    register_arrival = _by_keywords(RegisterArrival)
    register_arrivals = _by_keywords(RegisterArrivals)
    record_screening_step = _by_keywords(RecordScreeningStep)
    hold_person = _by_keywords(HoldPerson)
    release_person = _by_keywords(ReleasePerson)
    record_departure = _by_keywords(RecordDeparture)
    erase_personal_data = _by_keywords(ErasePersonalData)
    correct_detail = _by_keywords(CorrectDetail)
    merge_persons = _by_keywords(MergePersons)
    dismiss_duplicate = _by_keywords(DismissDuplicate)
    plan_transfer = _by_keywords(PlanTransfer)
    dispatch_transfer = _by_keywords(DispatchTransfer)
    receive_transfer = _by_keywords(ReceiveTransfer)
    reconcile_transfer = _by_keywords(ReconcileTransfer)
    cancel_transfer = _by_keywords(CancelTransfer)
