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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, replace
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import (
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


@dataclass(frozen=True)
class _Mark:
    """The unit as it was before a step, to put it back if the step is refused."""

    aggregates: dict[UUID, Aggregate]
    events: int
    claims: dict[tuple[str, str], UniqueClaim]
    released: dict[tuple[str, str], UniqueClaim]
    records: dict[tuple[str, str], tuple[IdempotencyRecord, int]]


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
        self._mark = _Mark(
            dict(self.aggregates),
            len(self.events),
            dict(self._claims),
            dict(self._released),
            dict(self._records),
        )

    def discard(self) -> None:
        """Forget everything the current step staged or noted: it was refused."""
        mark = self._mark
        if mark is None:
            raise RuntimeError("no step to discard")
        self.aggregates = mark.aggregates
        del self.events[mark.events :]
        del self._event_steps[mark.events :]
        self._claims, self._released, self._records = mark.claims, mark.released, mark.records
        self._replays.pop(self.step, None)

    def load(self, aggregate_id: UUID, load: Callable[[], Aggregate]) -> Aggregate:
        """A copy of the aggregate as the unit sees it: staged, read before, or stored."""
        found = self.aggregates.get(aggregate_id)
        if found is None:
            found = self._loaded.get(aggregate_id)
        if found is None:
            found = self._loaded[aggregate_id] = load()
        return deepcopy(found)

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
            self.aggregates[aggregate.id] = aggregate
            for event in aggregate.collect_events():
                self.events.append(event)
                self._event_steps.append(self.step)
        for claim in released:
            key = (claim.scope, claim.value)
            held = self._claims.get(key)
            if held is not None and held.owner_id == claim.owner_id:
                # Claimed and released within the unit: the store never needs to hear of it.
                del self._claims[key]
            else:
                self._released[key] = claim
        for claim in claims:
            self._claims[(claim.scope, claim.value)] = claim
        if idempotency is not None:
            last = len(self.events) - 1 if self.events else None
            record = replace(idempotency, last_event=last)
            self._records[(record.actor, record.key)] = (record, self.step)

    # --- reading through the unit (CommandJournal) --------------------------------------

    def prefetch_commands(self, keys: Sequence[tuple[str, str]]) -> None:
        """Look up at once the (actor, key) pairs the steps will use: one query, not one
        per command. A key used meanwhile by someone else makes the save fail, and the
        unit is decided again."""
        found = self._journal.find_commands(keys)
        self._known = {key: found.get(key) for key in keys}

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
        return self._journal.find_claim(scope, value)

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
        def load() -> TMutableOrImmutableAggregate:
            return super(StagingRepository, self).get(
                aggregate_id,
                version=version,
                projector_func=projector_func,
                fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=deepcopy_from_cache,
            )

        unit = active_unit(self.owner)
        if unit is None or version is not None:
            return load()
        loaded = unit.load(aggregate_id, cast(Callable[[], Aggregate], load))
        return cast(TMutableOrImmutableAggregate, loaded)
