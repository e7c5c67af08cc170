"""What every command is: a typed value, the decision its handler makes, and the records
a handler may read.

A command holds exactly what a caller asks for (its fields are the keys of the payload
an idempotency fingerprint is taken of, so a request stored by an earlier release still
replays). Who asks (the actor) and the idempotency key travel beside it, to
``Registry.handle``, which runs the one pipeline: idempotency, the decision, claims and
the save, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.site import Site
from campledger.domain.model.transfer import Transfer
from campledger.domain.service.journal import CommandJournal, UniqueClaim
from campledger.domain.service.unit_of_work import Lookups


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of every command. ``command_name`` is its name in the journal."""

    command_name: ClassVar[str]
    # Fields added after a command was first released: in the fingerprint only when given,
    # so that a request retried across the upgrade that added them still replays.
    later_fields: ClassVar[frozenset[str]] = frozenset()

    def check(self) -> None:
        """Refusals that need nothing stored (sizes): before any lookup."""

    def lookups(self) -> Lookups:
        """What deciding it will look up, for a unit of work to read with the lookups of
        the commands beside it, all at once."""
        return Lookups()

    def payload(self) -> dict[str, Any]:
        """The fields as the idempotency fingerprint takes them."""
        return {
            f.name: value
            for f in fields(self)
            if (value := getattr(self, f.name)) or f.name not in self.later_fields
        }


@dataclass
class Decision:
    """What a handler decided: the aggregates to save, the command's result, and the unique
    values it claims or gives up, all saved in one transaction."""

    aggregates: list[Aggregate]
    result: dict[str, Any]
    claims: list[UniqueClaim] = field(default_factory=list)
    released: list[UniqueClaim] = field(default_factory=list)


class Records(Protocol):
    """What a handler may read: the records as stored (or staged by the commands before it
    in the same unit of work) and the journal's claims."""

    @property
    def journal(self) -> CommandJournal: ...

    def exists(self, aggregate_id: UUID) -> bool: ...

    def get_site(self, code: str) -> Site: ...

    def get_open_site(self, code: str) -> Site: ...

    def get_person(self, person_id: UUID) -> Person: ...

    def person_at_version(self, person_id: UUID, expected_version: int | None) -> Person: ...

    def get_transfer(self, transfer_id: UUID) -> Transfer: ...

    def claimed_by_others(
        self, claims: Iterable[UniqueClaim]
    ) -> list[tuple[UniqueClaim, errors.DomainError]]: ...

    def refuse_claims_of_others(self, claims: Iterable[UniqueClaim]) -> None: ...

    def survivor_of(self, person_id: UUID) -> UUID: ...


C = TypeVar("C", bound=Command)
Decide = Callable[[Records, C, str, datetime], Decision]
# Called when the store refused the save for a unique value: raises the rule it broke.
Explain = Callable[[Records, C], None]


@dataclass(frozen=True)
class Handler(Generic[C]):
    decide: Decide[C]
    on_conflict: Explain[C] | None = None


_HANDLERS: dict[type[Command], Handler[Any]] = {}


def handles(
    command: type[C], *, on_conflict: Explain[C] | None = None
) -> Callable[[Decide[C]], Decide[C]]:
    """Register the decorated function as the one handler of ``command``."""

    def register(decide: Decide[C]) -> Decide[C]:
        if command in _HANDLERS:
            raise TypeError(f"{command.__name__} already has a handler")
        _HANDLERS[command] = Handler(decide, on_conflict)
        return decide

    return register


def handler_for(command: C) -> Handler[C]:
    found = _HANDLERS.get(type(command))
    if found is None:
        raise TypeError(f"no handler for {type(command).__name__}")
    return found


def every_command() -> list[type[Command]]:
    """Every command that has a handler, in the order they were registered."""
    return list(_HANDLERS)
