"""What a command writes beside its events, in the same transaction.

The event log alone cannot refuse a second person with the same registration
number, nor recognise a command a field device sent twice. Both need a write
that succeeds or fails together with the events. The Registry hands these
records to the application recorder as keyword arguments of ``save()``; each
recorder (in-memory for domain tests, PostgreSQL in production) stores them
atomically with the events and raises the library's ``IntegrityError`` when a
claim or an idempotency key is already taken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import orjson

from campledger.domain.model import errors

# The longest idempotency key a client may send (a UUID, or a device's own key scheme).
IDEMPOTENCY_KEY_MAX = 200
# How long a request's claim on its idempotency key holds if it is never let go (its
# server stopped mid-command): a copy sent meanwhile is told the first is in flight. Only
# availability rests on it: two copies applied at once still write once (the journal's
# unique key), the later one answering the earlier's result.
IN_FLIGHT_SECONDS = 60


@dataclass(frozen=True, slots=True)
class UniqueClaim:
    """A value that only one person may hold (a registration number, a biometric reference)."""

    scope: str
    value: str
    owner_id: UUID


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A command's result, kept under the key the client sent with it."""

    actor: str
    key: str
    command: str
    fingerprint: str
    result: dict[str, Any]
    # Where this command's events end among those saved with it; None: at the last one.
    # A unit of work saves many commands at once, and each keeps its own log position.
    last_event: int | None = None

    def position(self, notification_ids: Sequence[int] | None) -> int:
        """The log position of this command's last event, given the ids of the save."""
        if not notification_ids:
            return 0
        if self.last_event is None:
            return max(notification_ids)
        return notification_ids[self.last_event]


@dataclass(frozen=True, slots=True)
class JournalWrites:
    """What one save writes beside its events, as the recorders take it: the keyword
    arguments ``claims``, ``released``, ``idempotency``, ``idempotency_records`` and
    ``in_flight`` that the Registry and the unit of work pass to ``save()``."""

    claims: list[UniqueClaim]
    released: list[UniqueClaim]
    records: list[IdempotencyRecord]
    # The (actor, key) this save's command holds in flight: let go in the save's own
    # transaction, with the record that answers its copies from then on.
    in_flight: tuple[str, str] | None = None

    @classmethod
    def take(cls, kwargs: dict[str, Any]) -> JournalWrites:
        """The journal's writes, taken out of a recorder's keyword arguments (what is left
        is the library's own)."""
        one = kwargs.pop("idempotency", None)
        return cls(
            claims=list(kwargs.pop("claims", ())),
            released=list(kwargs.pop("released", ())),
            records=[*kwargs.pop("idempotency_records", ()), *([one] if one is not None else [])],
            in_flight=kwargs.pop("in_flight", None),
        )


@dataclass(frozen=True, slots=True)
class StoredCommand:
    """An idempotency record as read back, with the log position of its last event."""

    command: str
    fingerprint: str
    result: dict[str, Any]
    position: int


class KeyClaim(NamedTuple):
    """What claiming an idempotency key found."""

    claimed: bool
    # The command already stored under the key (then nothing was claimed).
    stored: StoredCommand | None


class KeyClaims(Protocol):
    """Which idempotency keys have a request being applied right now, outside any
    transaction, so that a copy arriving meanwhile sees it."""

    def claim_key(self, actor: str, key: str, expiry_seconds: float) -> KeyClaim:
        """Look the key up and, when no command is stored under it, mark it in flight, in
        one step: not claimed if another request holds it (and has held it for less than
        ``expiry_seconds``), and never claimed when a command is already stored."""

    def release_key(self, actor: str, key: str) -> None:
        """The request holding the key is done, whatever its outcome."""


class CommandJournal(Protocol):
    """Read access to the records written beside the events."""

    def find_command(self, actor: str, key: str) -> StoredCommand | None:
        """The command stored under this actor's idempotency key, if any."""

    def find_commands(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredCommand]:
        """The commands stored under any of these (actor, key) pairs, in one lookup."""

    def find_claim(self, scope: str, value: str) -> UUID | None:
        """The person holding this unique value, if any."""

    def find_claims(self, scope: str, values: Sequence[str]) -> dict[str, UUID]:
        """Which of these values are held, and by whom, in one lookup."""


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
