"""What every read model is: tables in its own schema, and handlers for events.

A read model owns one PostgreSQL schema (``read_<name>``). The engine creates it,
feeds it batches of events in log order inside one transaction together with
its checkpoint, and can rebuild it into a fresh schema and swap it in. A read
model knows nothing about the engine beyond this contract; queries live beside
the handlers in the read model's own module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID

from psycopg import Cursor, sql

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event as the projections see it: the domain event and where it sits in the log."""

    position: int  # notification id
    originator_id: UUID
    originator_version: int
    topic: str
    event: Any  # the decoded domain event (domain.person.Person.Registered, ...)
    state: bytes = b""  # the stored bytes, for read models that prove the log (the ledger)

    @property
    def recorded_at(self) -> datetime:
        recorded: datetime = self.event.timestamp
        return recorded


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Stands in for an event the projector could not decode (``error`` names why, without
    the event's contents); the engine sets it aside for every model that reads events."""

    error: str


Handler = Callable[[Any, Cursor[Any], Envelope], None]


class Fold(Protocol):
    """A read model's tables built in memory from the whole log, for a rebuild
    (``projections/folds.py``)."""

    def apply(self, envelope: Envelope) -> None:
        """Fold one event in. Raise, having changed nothing, to have it set aside."""

    def write(self, cur: Cursor[Any]) -> None:
        """Write every folded row into the model's (empty, unindexed) tables."""


@dataclass(frozen=True, slots=True)
class Rows:
    """A table holding one row per record (a person, a transfer, a site) that the record's
    events update in place (``ReadModel.set``)."""

    table: str
    key: str  # the column holding the record's id: the events' originator id
    # What every update sets besides its own assignments, from the envelope: ``%(at)s``
    # (the event's field time), ``%(version)s`` (the record's), ``%(position)s``.
    stamps: str = "position = %(position)s"
    # Events that only set fixed columns of their record's row: the ``SET`` list of each
    # (an event with a handler of its own is left to that handler).
    updates: Mapping[type, str] = field(default_factory=dict)


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a read-model method as the handler of these event classes."""

    def mark(method: Handler) -> Handler:
        method.__dict__.setdefault("_handles", []).extend(event_classes)
        return method

    return mark


class ReadModel:
    """Base of every read model: one schema, DDL, and one handler per event type.

    Subclasses set ``name`` and ``ddl`` (statements with a ``{schema}`` placeholder,
    formatted as an identifier), and decorate handler methods with ``@handles``; one that
    keeps a row per record names that table in ``rows``.
    Handlers write with ``cur.execute``; the engine runs them inside a pipeline,
    so each statement costs no round trip. ``self.schema`` is the schema to write
    to: the live one, or a fresh one during a rebuild.
    """

    name: ClassVar[str]
    ddl: ClassVar[Sequence[str]] = ()
    # True for a model that needs only the stored bytes (the ledger), so an event that
    # cannot be decoded is still given to it.
    reads_raw_events: ClassVar[bool] = False
    # Raise when a handler comes to write something else into the same tables (a column
    # now means another thing): like a change of ``ddl``, it makes a projector rebuild
    # the model from the log on its next start.
    revision: ClassVar[int] = 1
    # The model's table of one row per record, if it has one.
    rows: ClassVar[Rows | None] = None

    def __init__(self, schema: str | None = None) -> None:
        self.schema = schema or self.live_schema()
        self._rendered: dict[tuple[str, str], bytes] = {}
        updates = self.rows.updates if self.rows is not None else {}
        self._handlers: dict[type, Handler] = {
            event_class: _setting(assignments) for event_class, assignments in updates.items()
        }
        for cls in reversed(type(self).__mro__):
            for attr in vars(cls).values():
                for event_class in getattr(attr, "_handles", ()):
                    self._handlers[event_class] = attr

    @classmethod
    def live_schema(cls) -> str:
        return f"read_{cls.name}"

    def q(self, statement: str) -> sql.Composed:
        """A statement with ``{schema}`` filled in as a quoted identifier."""
        return sql.SQL(statement).format(schema=sql.Identifier(self.schema))

    def run(self, cur: Cursor[Any], statement: str, params: Any = None) -> None:
        """Execute a ``{schema}`` statement, rendered once per schema rather than per event.

        Composing and rendering a statement on every execute cost a fifth of the
        projector's time on large registration batches.
        """
        key = (self.schema, statement)
        query = self._rendered.get(key)
        if query is None:
            query = self._rendered[key] = self.q(statement).as_bytes(cur)
        cur.execute(query, params)

    def set(self, cur: Cursor[Any], envelope: Envelope, assignments: str, **params: Any) -> None:
        """Update the event's record in ``rows``: ``assignments`` (an SQL ``SET`` list that
        may name ``params`` as ``%(name)s``), and the stamps."""
        rows = self.rows
        assert rows is not None, f"{self.name} has no rows to update in place"
        self.run(
            cur,
            f"UPDATE {{schema}}.{rows.table} SET {assignments}, {rows.stamps} "
            f"WHERE {rows.key} = %(id)s",
            {
                "id": envelope.originator_id,
                "at": envelope.event.occurred_at,
                "version": envelope.originator_version,
                "position": envelope.position,
                **params,
            },
        )

    def create(self, cur: Cursor[Any], *, indexes: bool = True) -> None:
        """The schema and its tables; their indexes too unless told otherwise (a rebuild
        that fills the tables by COPY indexes them afterwards, ``create_indexes``)."""
        cur.execute(self.q("CREATE SCHEMA IF NOT EXISTS {schema}"))
        for statement in self.ddl:
            if indexes or not _is_index(statement):
                cur.execute(self.q(statement))

    def create_indexes(self, cur: Cursor[Any]) -> None:
        for statement in self.ddl:
            if _is_index(statement):
                cur.execute(self.q(statement))

    def fold(self) -> Fold | None:
        """The model built in memory from the whole log, for a rebuild (``folds``);
        None for a model rebuilt along the live path."""
        return None

    @classmethod
    def shape(cls) -> str:
        """A fingerprint of the tables this code writes: its DDL and revision."""
        text = "\n".join((str(cls.revision), *cls.ddl))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def forget(self) -> None:
        """Drop whatever the model keeps in memory between batches: the engine calls it
        when a batch rolls back, so nothing the tables lost survives in memory."""

    @property
    def topics(self) -> frozenset[type]:
        return frozenset(self._handlers)

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        """Apply a batch of events in log order. Override to apply a batch at once."""
        handlers = self._handlers
        for envelope in batch:
            handler = handlers.get(type(envelope.event))
            if handler is not None:
                handler(self, cur, envelope)


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


def _setting(assignments: str) -> Handler:
    """The handler of an event that only sets these columns of its record's row."""

    def handler(model: ReadModel, cur: Cursor[Any], envelope: Envelope) -> None:
        model.set(cur, envelope, assignments)

    return handler
