"""Applying one batch of events to the read models, so that no event can stop them.

A batch is applied to every model that has not yet seen it, each with its checkpoint, in
the caller's transaction. If that fails for a reason the events are to blame for, it is
applied again model by model, each part that fails halved down to the one event that
does, which is set aside (quarantined) for that model alone: a few savepoints per bad
event, and the other models never notice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import psycopg

from campledger.projections import quarantine
from campledger.projections.event_log import record_checkpoint
from campledger.projections.readmodel import Envelope, ReadModel, Undecodable

log = logging.getLogger(__name__)

# SQLSTATE classes of a failure that says nothing about the events: the connection or the
# server (08, 57P, 53), a lock wait or cancel (55P03, 57014), a deadlock or serialisation
# failure (40). The batch is retried whole once it passes, never blamed on an event.
TRANSIENT_SQLSTATES = ("08", "57P", "53", "55P03", "57014", "40")


@dataclass(frozen=True, slots=True)
class Batch:
    """Events read from the log, and the read models to apply them to, each at its
    checkpoint (events at or before it are not given to it again)."""

    events: list[Envelope]
    models: Sequence[ReadModel]
    checkpoints: dict[str, int]


def apply_safely(conn: psycopg.Connection[Any], batch: Batch) -> None:
    """Apply a batch at full speed; if it fails, find the events to blame and set them
    aside, so that one event no read model can apply never stops the others."""
    try:
        with conn.transaction():  # a savepoint in the caller's transaction
            _apply(conn, batch)
    except Exception as error:
        if transient(conn, error):
            raise
        log.warning(
            "a batch up to position %d failed (%s); applying it event by event",
            batch.events[-1].position, quarantine.describe(error),
        )  # fmt: skip
        for model in batch.models:
            model.forget()
        _apply_carefully(conn, batch)


def _apply(conn: psycopg.Connection[Any], batch: Batch) -> None:
    """Apply a batch to each model that has not seen all of it, with its checkpoint."""
    checkpoints, events = batch.checkpoints, batch.events
    start = min(checkpoints.values(), default=0)
    last = events[-1].position
    # A cursor per model: in pipeline mode psycopg hands each result to the cursor that
    # sent the statement whenever it arrives, so a model reading its own table (the
    # ledger's last link) on a cursor shared with the models before it could fetch
    # one of their results instead of its own, and the batch would fail.
    with ExitStack() as cursors, conn.pipeline():
        for model in batch.models:
            seen = checkpoints[model.name]
            todo = events if seen <= start else [e for e in events if e.position > seen]
            if todo:
                cur = cursors.enter_context(conn.cursor())
                todo = _set_aside_undecodable(cur, model, todo)
                model.apply(cur, todo)
                record_checkpoint(cur, model, last)


def _apply_carefully(conn: psycopg.Connection[Any], batch: Batch) -> None:
    """Apply each model alone, halving any part that fails down to the one event that
    does, which is quarantined for that model: a few savepoints per bad event."""
    last = batch.events[-1].position
    with conn.cursor() as cur:
        for model in batch.models:
            todo = [e for e in batch.events if e.position > batch.checkpoints[model.name]]
            if todo:
                _bisect(conn, cur, model, _set_aside_undecodable(cur, model, todo))
                record_checkpoint(cur, model, last)


def _bisect(
    conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], model: ReadModel, todo: list[Envelope]
) -> None:
    if not todo:
        return
    try:
        with conn.transaction():
            model.apply(cur, todo)
        return
    except Exception as error:
        if transient(conn, error):
            raise
        model.forget()
        if len(todo) > 1:
            middle = len(todo) // 2
            _bisect(conn, cur, model, todo[:middle])
            _bisect(conn, cur, model, todo[middle:])
            return
        quarantine.set_aside(cur, model, todo[0], quarantine.describe(error))


def transient(conn: psycopg.Connection[Any], error: Exception) -> bool:
    """A failure of the connection or the server, not of the events: retry, blame none."""
    if isinstance(error, psycopg.InterfaceError) or conn.broken:
        return True
    sqlstate = getattr(error, "sqlstate", None) or ""
    return isinstance(error, psycopg.OperationalError) and (
        not sqlstate or sqlstate.startswith(TRANSIENT_SQLSTATES)
    )


def _set_aside_undecodable(
    cur: psycopg.Cursor[Any], model: ReadModel, todo: list[Envelope]
) -> list[Envelope]:
    """The events of ``todo`` the model can be given: an event that could not be decoded is
    quarantined for every model that reads decoded events (the ledger chains raw bytes)."""
    if model.reads_raw_events or not any(isinstance(e.event, Undecodable) for e in todo):
        return todo
    for envelope in todo:
        if isinstance(envelope.event, Undecodable):
            quarantine.set_aside(cur, model, envelope, envelope.event.error)
    return [e for e in todo if not isinstance(e.event, Undecodable)]
