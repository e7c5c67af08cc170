"""An in-memory application recorder that keeps claims and idempotency records.

Used by the domain tests (no I/O) with the same rules the PostgreSQL recorder
enforces: claims and idempotency keys are written atomically with the events,
and any clash rejects the whole command with the library's ``IntegrityError``.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from campledger.domain.service.journal import JournalWrites, KeyClaim, StoredCommand


class InMemoryRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._claims: dict[tuple[str, str], UUID] = {}
        self._commands: dict[tuple[str, str], StoredCommand] = {}
        self._in_flight: dict[tuple[str, str], float] = {}

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        writes = JournalWrites.take(kwargs)
        claims, released, records = writes.claims, writes.released, writes.records
        with self._database_lock:
            # Check everything first so that a clash writes nothing at all.
            self._assert_uniqueness(stored_events)  # a version clash: concurrent change
            keys = [(r.actor, r.key) for r in records]
            if len(set(keys)) < len(keys) or any(k in self._commands for k in keys):
                raise IntegrityError("idempotency key already used")
            released_keys = {(c.scope, c.value) for c in released}
            seen: set[tuple[str, str]] = set()
            for claim in claims:
                key = (claim.scope, claim.value)
                if key in seen or (key in self._claims and key not in released_keys):
                    raise IntegrityError(f"{claim.scope} already claimed")
                seen.add(key)
            ids = self._update_table(stored_events, **kwargs)
            for c in released:
                if self._claims.get((c.scope, c.value)) == c.owner_id:
                    del self._claims[(c.scope, c.value)]
            for c in claims:
                self._claims[(c.scope, c.value)] = c.owner_id
            for record in records:
                self._commands[(record.actor, record.key)] = StoredCommand(
                    command=record.command,
                    fingerprint=record.fingerprint,
                    result=record.result,
                    position=record.position(ids),
                )
            if writes.in_flight is not None:
                self._in_flight.pop(writes.in_flight, None)
        self._notify_listeners()
        return ids

    def claim_key(self, actor: str, key: str, expiry_seconds: float) -> KeyClaim:
        now = time.monotonic()
        with self._database_lock:
            stored = self._commands.get((actor, key))
            if stored is not None:
                return KeyClaim(claimed=False, stored=stored)
            since = self._in_flight.get((actor, key))
            if since is not None and now - since < expiry_seconds:
                return KeyClaim(claimed=False, stored=None)
            self._in_flight[(actor, key)] = now
            return KeyClaim(claimed=True, stored=None)

    def release_key(self, actor: str, key: str) -> None:
        with self._database_lock:
            self._in_flight.pop((actor, key), None)

    def find_command(self, actor: str, key: str) -> StoredCommand | None:
        with self._database_lock:
            return self._commands.get((actor, key))

    def find_commands(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredCommand]:
        with self._database_lock:
            return {k: self._commands[k] for k in keys if k in self._commands}

    def find_claim(self, scope: str, value: str) -> UUID | None:
        with self._database_lock:
            return self._claims.get((scope, value))

    def find_claims(self, scope: str, values: Sequence[str]) -> dict[str, UUID]:
        with self._database_lock:
            return {v: self._claims[(scope, v)] for v in values if (scope, v) in self._claims}

    def select_events_of(self, ids: Collection[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The events of each of these records that has any, in order."""
        select = super().select_events  # the store's own, whatever this instance wraps
        found = {aggregate_id: list(select(aggregate_id)) for aggregate_id in ids}
        return {aggregate_id: events for aggregate_id, events in found.items() if events}
