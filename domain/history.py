"""A person's history: every event in order, and the state after each one.

The answer an auditor needs is "what happened to this person, who did it, when, on whose
order", and "what was their state at T" on either time axis:

- ``as_of`` (occurred time): events whose field time is at or before T. Field time never
  goes backwards within one record (``check_occurred_at``), so this is a prefix of the
  record's events and replaying it gives a state the aggregate really passed through.
- ``known_at`` (recorded time): events the system had stored at T ("what did we know at
  T"). A late-synced event that occurred before T but was stored after it is absent here.

History replays the aggregate one event at a time from the log; it does no I/O beyond the
Registry's event store. Personal data (names, date of birth, biometric reference) is left
out of the states and of corrections unless asked for. Once a person's personal data is
erased, every personal value of every one of their events reads as ``ERASED``, whenever
the history is cut: the key that opened them is gone for good.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import PERSONAL_FIELDS as _ORDERED_PERSONAL_FIELDS
from campledger.domain.model.values import date_of_birth_text

# The event payloads carry more, but history only ever shows the fields listed in
# ``_REFERENCE_FIELDS``; these are the personal ones among what it shows.
PERSONAL_FIELDS = frozenset(_ORDERED_PERSONAL_FIELDS)
REDACTED = "[personal]"
# Stands in for a value that can no longer be read (docs/data-protection.md, Erasure).
ERASED = "[erased]"

_STATE_FIELDS = (
    "registration_number",
    "status",
    "site_code",
    "transfer_id",
    "sex",
    "estimated_age",
    "nationality",
    "household_id",
    "relationship",
    "specific_needs",
    "screening",
    "departure_reason",
    "merged_into",
    "registered_at",
    "last_occurred_at",
    "held",
    "held_since",
    "hold_authority",
    "hold_order_reference",
    "hold_review_date",
    "erased",
)
_PERSONAL_STATE_FIELDS = _ORDERED_PERSONAL_FIELDS
# Fields of an event that say on whose order or about what it happened.
_REFERENCE_FIELDS = (
    "transfer_id",
    "survivor_id",
    "duplicate_id",
    "duplicate_registration_number",
    "step",
    "outcome",
    "field",
    "origin",
    "destination",
    # On whose order a hold or release was decided, and a custody movement.
    "authority",
    "order_reference",
    "review_date",
    "in_custody",
    # Why a person's personal data was erased (a code).
    "basis",
)
# Shown only when set: a cleared step has no order, an ordinary movement no custody.
_WHEN_GIVEN = frozenset({"authority", "order_reference", "review_date", "in_custody"})


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One event of a person, with the state it left the person in."""

    person_id: UUID
    version: int
    action: str  # the event's name in snake case: registered, transfer_received, ...
    recorded_at: datetime
    occurred_at: datetime
    actor: str
    site_code: str | None
    reason: str | None
    reference: dict[str, Any]
    state: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": str(self.person_id),
            "version": self.version,
            "action": self.action,
            "recorded_at": self.recorded_at.isoformat(),
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "site_code": self.site_code,
            "reason": self.reason,
            "reference": jsonable(self.reference),
            "state": jsonable(self.state),
        }


@dataclass(slots=True)
class PersonHistory:
    person_id: UUID
    entries: list[HistoryEntry]
    as_of: datetime | None = None
    known_at: datetime | None = None
    # The person's personal data is erased (now, not only at the cut).
    erased: bool = False
    # Histories of records merged into this one, when asked for.
    duplicates: dict[UUID, list[HistoryEntry]] = field(default_factory=dict)

    @property
    def state(self) -> dict[str, Any] | None:
        """The state at the end of the history (None: not registered yet at that time)."""
        return self.entries[-1].state if self.entries else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": str(self.person_id),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "known_at": self.known_at.isoformat() if self.known_at else None,
            "erased": self.erased,
            "state": jsonable(self.state),
            "events": [e.as_dict() for e in self.entries],
            "duplicates": {str(k): [e.as_dict() for e in v] for k, v in self.duplicates.items()},
        }


def person_history(
    app: Application[UUID],
    person_id: UUID,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    include_personal: bool = False,
    include_duplicates: bool = False,
) -> PersonHistory:
    """Every event of a person up to ``as_of`` (field time) and ``known_at`` (recorded time)."""
    for moment in (as_of, known_at):
        if moment is not None and moment.tzinfo is None:
            raise errors.InvalidInput("as-of times must include a time zone")
    events = cast(list[Aggregate.Event], list(app.events.get(person_id)))
    if not events or not isinstance(events[0], Person.Registered):
        raise errors.PersonNotFound(f"no person with id {person_id}")
    erased = any(isinstance(event, Person.PersonalDataErased) for event in events)
    entries = list(_replay(_cut(events, as_of, known_at), include_personal, erased))
    _add_order_references(app, entries)
    history = PersonHistory(person_id, entries, as_of=as_of, known_at=known_at, erased=erased)
    if include_duplicates:
        for entry in entries:
            if entry.action == "duplicate_merged":
                duplicate_id = entry.reference["duplicate_id"]
                history.duplicates[duplicate_id] = person_history(
                    app,
                    duplicate_id,
                    as_of=as_of,
                    known_at=known_at,
                    include_personal=include_personal,
                ).entries
    return history


def _add_order_references(app: Application[UUID], entries: list[HistoryEntry]) -> None:
    # Person events name their transfer; the order it was made on sits on the transfer.
    orders: dict[UUID, str] = {}
    for entry in entries:
        transfer_id = entry.reference.get("transfer_id")
        if transfer_id is None:
            continue
        if transfer_id not in orders:
            transfer: Aggregate = app.repository.get(transfer_id)
            orders[transfer_id] = getattr(transfer, "order_reference", "") or ""
        if orders[transfer_id] and not entry.reference.get("order_reference"):
            entry.reference["order_reference"] = orders[transfer_id]


def _cut(
    events: Iterable[Aggregate.Event],
    as_of: datetime | None,
    known_at: datetime | None,
) -> Iterator[Aggregate.Event]:
    # Both times are non-decreasing along one record's versions, so stopping at the first
    # event past either bound yields a contiguous prefix the aggregate can replay.
    for event in events:
        if known_at is not None and event.timestamp > known_at:
            return
        if as_of is not None and event.occurred_at > as_of:  # type: ignore[attr-defined]
            return
        yield event


def _replay(
    events: Iterable[Aggregate.Event], include_personal: bool, erased: bool
) -> Iterator[HistoryEntry]:
    person: Any = None
    # Erased, a personal value reads back as None (its key is gone): say so, rather than
    # show an empty name or a step with no reason as if nothing had been written.
    unreadable = ERASED if erased else None
    for event in events:
        values = vars(event) if hasattr(event, "__dict__") else {}
        # A correction's event holds only the new value: the old one is the state before it.
        before = _stored(getattr(person, values["field"], None)) if "new_value" in values else None
        person = event.mutate(person)
        reference = {
            k: values[k]
            for k in _REFERENCE_FIELDS
            if k in values and (values[k] or k not in _WHEN_GIVEN)
        }
        if "new_value" in values:
            personal = values.get("field") in PERSONAL_FIELDS
            hidden = REDACTED if not include_personal else unreadable
            reference["old_value"] = hidden if personal and hidden else before
            reference["new_value"] = hidden if personal and hidden else values["new_value"]
        site = (
            values.get("site_code")
            or values.get("destination")
            or getattr(person, "site_code", None)
        )
        yield HistoryEntry(
            person_id=event.originator_id,
            version=event.originator_version,
            action=_action(type(event)),
            recorded_at=event.timestamp,
            occurred_at=values["occurred_at"],
            actor=values["actor"],
            site_code=site,
            reason=_reason(values, unreadable),
            reference=reference,
            state=_state(person, include_personal, unreadable),
        )


def _reason(values: dict[str, Any], unreadable: str | None) -> str | None:
    # A sealed reason reads back as None once erased; an empty one was never sealed.
    if "reason" in values and values["reason"] is None:
        return unreadable
    return values.get("reason") or None


def _stored(value: Any) -> Any:
    """A person's value in the form a correction event stores it (dates as ISO text)."""
    if isinstance(value, date):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


def _state(person: Person, include_personal: bool, unreadable: str | None) -> dict[str, Any]:
    names = _STATE_FIELDS + (_PERSONAL_STATE_FIELDS if include_personal else ())
    state = {name: getattr(person, name, None) for name in names}
    if include_personal and unreadable:
        state.update(dict.fromkeys(_PERSONAL_STATE_FIELDS, unreadable))
    elif include_personal and state["date_of_birth"] is not None:
        # As it is known: a year alone is shown as the year (1985), not as 1 January.
        state["date_of_birth"] = date_of_birth_text(
            state["date_of_birth"], getattr(person, "date_of_birth_precision", None)
        )
    # The aggregate keeps mutating: copy what is mutable so each entry keeps its own state.
    state["screening"] = dict(state["screening"] or {})
    state["version"] = person.version
    return state


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_ACTIONS: dict[type, str] = {}


def _action(cls: type) -> str:
    name = _ACTIONS.get(cls)
    if name is None:
        name = _ACTIONS[cls] = _CAMEL.sub("_", cls.__name__).lower()
    return name


def jsonable(value: Any) -> Any:
    """Values as JSON writes them: times and dates in ISO 8601, ids as text, enums as
    their values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value
