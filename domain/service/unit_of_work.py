"""A unit of work: several Registry commands saved as one, or not at all.

A reception point that worked offline for hours may ask for its queue of commands to be
applied all or nothing. Each command is decided exactly as when it runs alone (same
rules, same errors), but against the state the commands before it in the unit left
behind, and instead of being saved on its own it is staged here. The Registry then saves
everything the unit staged in one ``save()``: one transaction.

While a unit is active (in this context only: other threads and requests never see it),
the Registry reads through it: an aggregate a previous command changed is taken from the
unit, a registration number claimed earlier in the unit counts as taken, and an
idempotency key used earlier in the unit is a replay. Every command gets its own copy of
what it loads, so a command that is refused half-way leaves the unit as it found it, and
the unit can go on without it when the caller wants the others applied regardless.

What the commands will look up (their idempotency keys, the unique values they claim, the
records they act on) is read for all of them at the start, in a few queries, instead of
one query per command and kind: a queue of 1,000 commands otherwise spends most of its
time waiting on 3,000 round trips. What was read may be overtaken by another writer
before the save; the save then fails and the unit is decided again from what is stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field, replace
from itertools import zip_longest
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import (
    Aggregate,
    DomainEventProtocol,
    TDomainEvent,
    TMutableOrImmutableAggregate,
)

from campledger.domain.service.journal import (
    CommandJournal,
    IdempotencyRecord,
    StoredCommand,
    UniqueClaim,
)

_ACTIVE: ContextVar[UnitOfWork | None] = ContextVar("campledger_unit_of_work", default=None)
# Records by id, read from the log at once: None for an id nobody has used yet; an id
# whose record could not be read is left out (its command then reads it itself).
LoadMany = Callable[[Collection[UUID]], Mapping[UUID, Aggregate | None]]
_MISSING = object()


class LooksUp(Protocol):
    """A command: it knows what deciding it will look up."""

    def lookups(self) -> Lookups: ...


@dataclass(frozen=True)
class Lookups:
    """What commands will look up: the unique values they claim ((scope, value) pairs)
    and the records they act on or create."""

    claims: Sequence[tuple[str, str]] = ()
    records: Sequence[UUID] = ()

    @staticmethod
    def merged(many: Iterable[Lookups]) -> Lookups:
        claims: dict[tuple[str, str], None] = {}
        records: dict[UUID, None] = {}
        for lookups in many:
            claims.update(dict.fromkeys(lookups.claims))
            records.update(dict.fromkeys(lookups.records))
        return Lookups(list(claims), list(records))


class StepFailed(Exception):
    """A command of a unit of work raised: nothing of the unit was saved."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(f"command {index} of the unit failed: {type(error).__name__}")
        self.index = index
        self.error = error


def active_unit(owner: object) -> UnitOfWork | None:
    """The unit of work running on this application in the current context, if any."""
    unit = _ACTIVE.get()
    return unit if unit is not None and unit.owner is owner else None


@dataclass
class _Mark:
    """How to put the unit back as it was before a step, if the step is refused: how many
    events it had, and each entry the step changed with its value before (an undo log:
    copying the whole unit before every step made a queue's cost grow with its square)."""

    events: int
    undo: list[tuple[dict[Any, Any], Any, Any]] = field(default_factory=list)


class UnitOfWork:
    """What the commands of one unit decided, in order, waiting to be saved together."""

    def __init__(self, owner: object, journal: CommandJournal) -> None:
        self.owner = owner
        self._journal = journal
        self.step = 0
        self.aggregates: dict[UUID, Aggregate] = {}
        # Aggregates read but not changed, kept so that a hundred registrations at one
        # site load the site once; the save refuses anything changed meanwhile.
        self._loaded: dict[UUID, Aggregate] = {}
        self.events: list[DomainEventProtocol[UUID]] = []
        self._event_steps: list[int] = []
        self._claims: dict[tuple[str, str], UniqueClaim] = {}
        self._released: dict[tuple[str, str], UniqueClaim] = {}
        self._records: dict[tuple[str, str], tuple[IdempotencyRecord, int]] = {}
        self._replays: dict[int, int] = {}
        self._known: dict[tuple[str, str], StoredCommand | None] = {}
        self._known_claims: dict[tuple[str, str], UUID | None] = {}
        self._absent: set[UUID] = set()  # read at the start: no record has this id
        self._mark: _Mark | None = None

    @contextmanager
    def active(self) -> Iterator[UnitOfWork]:
        if _ACTIVE.get() is not None:
            raise RuntimeError("a unit of work is already running in this context")
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    # --- steps ---------------------------------------------------------------------------

    def begin(self, step: int) -> None:
        self.step = step
        self._mark = _Mark(len(self.events))

    def discard(self) -> None:
        """Forget everything the current step staged or noted: it was refused."""
        mark = self._mark
        if mark is None:
            raise RuntimeError("no step to discard")
        for table, key, before in reversed(mark.undo):
            if before is _MISSING:
                del table[key]
            else:
                table[key] = before
        mark.undo.clear()
        del self.events[mark.events :]
        del self._event_steps[mark.events :]
        self._replays.pop(self.step, None)

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if self._mark is not None:
            self._mark.undo.append((table, key, table.get(key, _MISSING)))
        if value is _MISSING:
            del table[key]
        else:
            table[key] = value

    def load(self, aggregate_id: UUID, load: Callable[[UUID], Aggregate]) -> Aggregate:
        """A copy of the aggregate as the unit sees it: staged, read before, or stored."""
        found = self.aggregates.get(aggregate_id)
        if found is None:
            found = self._loaded.get(aggregate_id)
        if found is None:
            if aggregate_id in self._absent:
                raise AggregateNotFoundError(aggregate_id)
            found = self._loaded[aggregate_id] = load(aggregate_id)
        return deepcopy(found)

    def knows(self, aggregate_id: UUID) -> bool | None:
        """Whether the record exists, as far as the unit knows without reading (None)."""
        if aggregate_id in self.aggregates or aggregate_id in self._loaded:
            return True
        return False if aggregate_id in self._absent else None

    # --- staging (what the Registry's save() does while the unit is active) -------------

    def stage(
        self,
        aggregates: Sequence[Aggregate],
        *,
        claims: Sequence[UniqueClaim] = (),
        released: Sequence[UniqueClaim] = (),
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Keep one command's changes: its new events in order, its claims and its key."""
        for aggregate in aggregates:
            self._set(self.aggregates, aggregate.id, aggregate)
            for event in aggregate.collect_events():
                self.events.append(event)
                self._event_steps.append(self.step)
        for claim in released:
            key = (claim.scope, claim.value)
            held = self._claims.get(key)
            if held is not None and held.owner_id == claim.owner_id:
                # Claimed and released within the unit: the store never needs to hear of it.
                self._set(self._claims, key, _MISSING)
            else:
                self._set(self._released, key, claim)
        for claim in claims:
            self._set(self._claims, (claim.scope, claim.value), claim)
        if idempotency is not None:
            last = len(self.events) - 1 if self.events else None
            record = replace(idempotency, last_event=last)
            self._set(self._records, (record.actor, record.key), (record, self.step))

    # --- reading through the unit (CommandJournal) --------------------------------------

    def prefetch(
        self,
        keys: Sequence[tuple[str, str]],
        commands: Sequence[LooksUp | None] = (),
        load_many: LoadMany | None = None,
    ) -> None:
        """Look up at once the (actor, key) pairs the steps will use and, for the commands
        sent under keys not seen before (``commands[i]`` under ``keys[i]``, None where
        there is nothing to look up; a replay looks nothing up), the unique values they
        will claim and the records they will read: a few queries, not a few per command.
        A key, value or record taken meanwhile by someone else makes the save fail, and
        the unit is decided again."""
        found = self._journal.find_commands(keys)
        self._known = {key: found.get(key) for key in keys}
        lookups = Lookups.merged(
            command.lookups()
            for key, command in zip_longest(keys, commands)
            if command is not None and (key is None or found.get(key) is None)
        )
        by_scope: dict[str, list[str]] = defaultdict(list)
        for scope, value in lookups.claims:
            by_scope[scope].append(value)
        for scope, values in by_scope.items():
            held = self._journal.find_claims(scope, values)
            self._known_claims.update({(scope, value): held.get(value) for value in values})
        if load_many is not None and lookups.records:
            for aggregate_id, aggregate in load_many(set(lookups.records)).items():
                if aggregate is None:
                    self._absent.add(aggregate_id)
                else:
                    self._loaded[aggregate_id] = aggregate

    def is_stale(self) -> bool:
        """Has any key looked up at the start been used since? Then what the unit saw as
        new may be a replay, and a refusal (person already registered) may be wrong."""
        unused = [key for key, found in self._known.items() if found is None]
        return bool(unused) and bool(self._journal.find_commands(unused))

    def find_command(self, actor: str, key: str) -> StoredCommand | None:
        """A key used earlier in the unit is found here first. A hit makes the current
        command a replay of that earlier one: it gets its log position once saved."""
        staged = self._records.get((actor, key))
        if staged is None:
            if (actor, key) in self._known:
                return self._known[(actor, key)]
            return self._journal.find_command(actor, key)
        record, step = staged
        self._replays[self.step] = step
        return StoredCommand(
            command=record.command, fingerprint=record.fingerprint, result=record.result, position=0
        )

    def find_commands(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredCommand]:
        found = {key: self.find_command(*key) for key in keys}
        return {key: command for key, command in found.items() if command is not None}

    def find_claim(self, scope: str, value: str) -> UUID | None:
        key = (scope, value)
        if key in self._claims:
            return self._claims[key].owner_id
        if key in self._released:
            return None
        if key in self._known_claims:
            return self._known_claims[key]
        return self._journal.find_claim(scope, value)

    def find_claims(self, scope: str, values: Sequence[str]) -> dict[str, UUID]:
        found = {value: self.find_claim(scope, value) for value in values}
        return {value: owner for value, owner in found.items() if owner is not None}

    # --- saving -------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return not self.events and not self._records and not self._claims and not self._released

    def processing_event(self) -> ProcessingEvent[UUID]:
        """Everything staged, as one save: events in the order the commands decided them."""
        processing = ProcessingEvent[UUID]()
        processing.events.extend(self.events)
        processing.aggregates.update(self.aggregates)
        saved: dict[str, Any] = {
            "claims": list(self._claims.values()),
            "released": list(self._released.values()),
            "idempotency_records": [record for record, _ in self._records.values()],
        }
        processing.saved_kwargs.update(saved)
        return processing

    def positions(self, notification_ids: Sequence[int]) -> dict[int, int]:
        """Each command's log position (that of its last event) once the unit is saved; a
        replay of a command earlier in the unit gets that command's position."""
        found: dict[int, int] = {}
        for step, notification_id in zip(self._event_steps, notification_ids, strict=True):
            found[step] = max(found.get(step, 0), notification_id)
        for step, original in self._replays.items():
            found[step] = max(found.get(step, 0), found.get(original, 0))
        return found


class StagingRepository(Repository[UUID]):
    """The Registry's repository: inside a unit of work, aggregates come from the unit
    (as earlier commands of the unit left them), each time as a fresh copy."""

    def __init__(self, base: Repository[UUID], owner: object) -> None:
        super().__init__(
            base.event_store,
            snapshot_store=base.snapshot_store,
            fastforward=base.fastforward,
            fastforward_skipping=base.fastforward_skipping,
            deepcopy_from_cache=base.deepcopy_from_cache,
        )
        self.cache = base.cache
        self.owner = owner

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[TMutableOrImmutableAggregate, TDomainEvent] = (
            project_aggregate
        ),
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> TMutableOrImmutableAggregate:
        unit = active_unit(self.owner)
        if unit is None or version is not None or projector_func is not project_aggregate:
            return super().get(
                aggregate_id,
                version=version,
                projector_func=projector_func,
                fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=deepcopy_from_cache,
            )
        return cast(TMutableOrImmutableAggregate, unit.load(aggregate_id, self._stored))

    def _stored(self, aggregate_id: UUID) -> Aggregate:
        """The aggregate as stored, for the unit to keep (and copy for each command)."""
        return cast(Aggregate, super().get(aggregate_id))
