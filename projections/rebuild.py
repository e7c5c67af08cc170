"""Filling read models' fresh schemas from the log, in one process or several.

A rebuild recomputes read models from position 0 into fresh schemas (``<live>__rebuild``)
that nothing reads until the projector swaps them in (``Projector.rebuild``, which also
applies, under its lock, whatever was written while they filled). Filling is the long
part, and it is Python's work: decoding events, matching names, folding rows. One process
uses one core. With ``processes`` above one, the models are shared out by what each costs
to rebuild (``REBUILD_COST``) and every process reads the log and fills its share, so the
second core works too. Each process decodes the log itself: decoding is about a seventh of
a full rebuild, and handing decoded events from one process to another would cost more in
pickling than it saves.

Helper processes come from a fork server, as the import's workers do: a process forked
from this one would share its open database connections. ``setup`` runs first in each, to
give it what the composition root gave this process (the key store that opens personal
fields); it must be picklable. As with any use of ``multiprocessing``, a script that
rebuilds with helpers keeps its top-level work under ``if __name__ == "__main__"``: the
fork server imports the main module, and a script without that guard would run again
there.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper

from campledger.projections import batches, collation, folds, quarantine, schemas
from campledger.projections.batches import Batch, apply_safely
from campledger.projections.event_log import (
    head_position,
    read_batch,
    record_checkpoint,
)
from campledger.projections.readmodel import Envelope, Fold, ReadModel

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# Makes the mapper that decodes events, for a database address (``default_mapper``).
Decoder = Callable[[str], Mapper[Any]]
Setup = Callable[[], object]

# What each read model costs to rebuild, beyond reading and decoding the log: milliseconds
# per 1,000 events, each model rebuilt alone on 30,294 events (``python -m
# bench.projection_rebuild --per-model``, 2026-11-29). Only the proportions matter: they
# decide which process fills which models. A model not listed counts as a middling one.
REBUILD_COST = {
    "duplicates": 70, "roster": 55, "stays": 26, "audit_log": 23, "occupancy": 20,
    "households": 20, "transfers": 13, "holds": 13, "flows": 10, "ledger": 10,
}  # fmt: skip
_DEFAULT_COST = 20

# How often the projector looks at the helper processes' progress while it waits for them.
_POLL_SECONDS = 0.25


def fresh(cls: type[ReadModel]) -> ReadModel:
    """A read model writing to its rebuild schema, where a rebuild fills it."""
    return cls(schema=f"{cls.live_schema()}__rebuild")


def shares(models: Sequence[ReadModel], processes: int) -> list[list[ReadModel]]:
    """The models split into at most ``processes`` groups of about equal cost (costliest
    first, each to the cheapest group so far), in their given order within a group; no
    group is empty."""
    groups: list[list[int]] = [[] for _ in range(max(1, min(processes, len(models))))]
    totals = [0] * len(groups)
    costs = [REBUILD_COST.get(model.name, _DEFAULT_COST) for model in models]
    for index in sorted(range(len(models)), key=lambda i: -costs[i]):
        cheapest = totals.index(min(totals))
        groups[cheapest].append(index)
        totals[cheapest] += costs[index]
    return [[models[i] for i in sorted(group)] for group in groups if group]


def fill_shared(
    conninfo: str,
    conn: psycopg.Connection[Any],
    decoding: tuple[Decoder, Mapper[Any]],
    models: Sequence[ReadModel],
    batch_size: int,
    *,
    processes: int = 1,
    setup: Setup | None = None,
    progress: Progress | None = None,
) -> int:
    """Fill the fresh ``models`` from the log, this process taking the first share and a
    helper process each other share; the events read (each share reads to the head it
    sees). ``decoding`` is the decoder and the mapper it made for this process."""
    decoder, mapper = decoding
    groups = shares(models, processes)
    if len(groups) <= 1:  # one share, or no model at all: nothing to hand to a helper
        return fill(conn, mapper, models, batch_size, progress)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    done_by = [context.Value("q", 0) for _ in groups[1:]]
    helpers: list[tuple[Any, Connection]] = []
    # Never written to: a helper sees it close when this process ends, however it ends
    # (a SIGKILL included), and stops, its open transaction rolled back. Left running, it
    # would go on writing into fresh schemas the next rebuild had made anew.
    lifeline, held = context.Pipe(duplex=False)
    try:
        for group, counter in zip(groups[1:], done_by, strict=True):
            receive, send = context.Pipe(duplex=False)
            share = [type(m) for m in group]
            process = context.Process(
                target=_fill_share,
                args=(setup, decoder, conninfo, share, batch_size, counter, send, lifeline),
                name="campledger-rebuild",
                daemon=True,
            )
            process.start()
            send.close()
            helpers.append((process, receive))
        lifeline.close()

        def overall(done: int, total: int) -> None:
            if progress:
                progress(min([done, *(d.value for d in done_by)]), total)

        events = fill(conn, mapper, groups[0], batch_size, overall)
        for (process, receive), counter in zip(helpers, done_by, strict=True):
            while not receive.poll(_POLL_SECONDS):
                if not process.is_alive() and not receive.poll():
                    raise RuntimeError(
                        f"a rebuild process ended without a result (exit code {process.exitcode})"
                    )
                overall(events, max(events, counter.value))
            outcome = receive.recv()
            if isinstance(outcome, BaseException):
                raise outcome
            events = max(events, outcome)
        return events
    finally:
        for process, receive in helpers:
            receive.close()
            if process.is_alive():
                process.terminate()  # this rebuild failed: its other shares are moot
            process.join()
        held.close()


def _fill_share(
    setup: Setup | None,
    decoder: Decoder,
    conninfo: str,
    classes: list[type[ReadModel]],
    batch_size: int,
    done: Synchronized[int],
    result: Connection,
    lifeline: Connection,
) -> None:
    """A helper process's share: its own connection and decoder, its models filled."""
    threading.Thread(target=_outlive_not, args=(lifeline,), daemon=True).start()
    try:
        if setup is not None:
            setup()
        with psycopg.connect(conninfo, autocommit=True) as conn:

            def count(events: int, total: int) -> None:
                done.value = events

            outcome: object = fill(
                conn, decoder(conninfo), [fresh(c) for c in classes], batch_size, count
            )
    except Exception as error:  # reported to the projector, which raises it there
        outcome = _picklable(error)
    result.send(outcome)
    result.close()


def _outlive_not(lifeline: Connection) -> None:
    """End this helper at once when the process that started it is gone: the pipe's other
    end closes with that process, and the database rolls back what this one had open."""
    with suppress(EOFError, OSError):
        lifeline.recv()
    os._exit(1)


def _picklable(error: Exception) -> Exception:
    # Some exceptions (psycopg's among them) do not survive pickling; their class name
    # still says what went wrong, and their message may quote parameters anyway.
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__} in a rebuild process")
    return error


def fill(
    conn: psycopg.Connection[Any],
    mapper: Mapper[Any],
    models: Sequence[ReadModel],
    batch_size: int,
    progress: Progress | None = None,
) -> int:
    """Fill the fresh ``models`` from the log to its head; the events read. Models that
    fold the log in memory are filled by COPY and indexed at the end; the others take the
    live path, batch by batch (``folds``)."""
    folded = [(model, fold) for model in models if (fold := model.fold()) is not None]
    live = [model for model in models if all(model is not m for m, _ in folded)]
    for model in models:
        _fresh_schema(conn, model, indexes=model in live)
    head = head_position(conn)
    done = position = 0
    with collation.remembering():
        while events := _batch(conn, mapper, live, folded, position, batch_size):
            done += len(events)
            position = events[-1].position
            if progress:
                progress(done, max(head, done))
    for model, fold in folded:
        _write_fold(conn, mapper, model, fold, position, batch_size)
    # Logged again, whole, here rather than under the projector's lock in the swap:
    # writing the tables to the write-ahead log takes a while.
    with conn.transaction(), conn.cursor() as cur:
        for model in models:
            schemas.set_logged(cur, model, True)
    # Statistics before readers see the tables.
    with conn.transaction(), conn.cursor() as cur:
        for model in models:
            schemas.analyze(cur, model)
    return done


def _fresh_schema(conn: psycopg.Connection[Any], model: ReadModel, *, indexes: bool) -> None:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(model.q("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        schemas.create(cur, model, indexes=indexes)
        schemas.set_logged(cur, model, False)


def _batch(
    conn: psycopg.Connection[Any],
    mapper: Mapper[Any],
    live: list[ReadModel],
    folded: list[tuple[ReadModel, Fold]],
    after: int,
    batch_size: int,
) -> list[Envelope]:
    """The next batch after ``after``, applied to the live-path models and folded into the
    others; empty at the end of the log. No projector lock: nothing else writes these
    schemas, and the live projector need not wait for a rebuild's batches."""
    with conn.transaction(), conn.cursor() as cur:
        events = read_batch(cur, mapper, after, batch_size)
        if events and live:
            apply_safely(conn, Batch(events, live, {m.name: after for m in live}))
        for model, fold in folded:
            folds.feed(cur, model, fold, events)
    return events


def _write_fold(
    conn: psycopg.Connection[Any],
    mapper: Mapper[Any],
    model: ReadModel,
    fold: Fold,
    position: int,
    batch_size: int,
) -> None:
    """Write a folded model's rows and index them; if the rows cannot be written, fill the
    model again along the live path."""
    try:
        with conn.transaction(), conn.cursor() as cur:
            fold.write(cur)
            model.create_indexes(cur)
            if position:
                record_checkpoint(cur, model, position)
    except psycopg.Error as error:
        if batches.transient(conn, error):
            raise
        log.warning(
            "read model %s: its folded rows could not be written (%s); rebuilding it "
            "event by event", model.name, quarantine.describe(error),
        )  # fmt: skip
        _fresh_schema(conn, model, indexes=True)
        after = 0
        while events := _batch(conn, mapper, [model], [], after, batch_size):
            after = events[-1].position
