"""The projection engine: reads the event log in order and keeps read models current.

Each batch is read, decoded once, applied to every read model that has not yet
seen it, and committed in one transaction together with each model's checkpoint
(its tracking record). A crash at any point leaves each model exactly at its
last committed checkpoint, so restarting applies every event exactly once.

The ``Projector`` runs batches (``catch_up``), follows the log live (``follow``) and
rebuilds read models into fresh schemas (``rebuild``). Beside it: reading the log and
the checkpoints (``event_log``), applying one batch without letting an event stop the
models (``batches``), and each model's schema (``schemas``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from campledger.projections import collation, quarantine, schemas
from campledger.projections import rebuild as rebuilding
from campledger.projections.batches import Batch, apply_safely
from campledger.projections.catalog import READ_MODELS
from campledger.projections.event_log import (
    EVENTS_CHANNEL,
    PROJECTED_CHANNEL,
    checkpoints_of,
    default_mapper,
    head_position,
    read_batch,
    wait_for_position,
)
from campledger.projections.readmodel import ReadModel
from campledger.projections.rebuild import Decoder, Setup

log = logging.getLogger(__name__)

# One lock serialises batches of every projector process with the swap at the end of a
# rebuild, so a swap never lands between a batch's read of checkpoints and its commit.
PROJECTOR_LOCK = 0x63616D70  # "camp"
# Held (shared) by every live projector's listening connection for as long as it follows
# the log, so readiness can see one runs; the server drops it with the connection, however
# the process ends.
PROJECTOR_RUNNING_LOCK = 0x6C697665  # "live"

Progress = Callable[[int, int], None]
# What the live projector reports after each batch and each idle wake-up: the log's head,
# each read model's checkpoint, and how many events the batch held (0 when idle). The API
# turns it into metrics; the read side knows nothing of them.
Observer = Callable[[int, Mapping[str, int], int], None]

# After a lost connection the live projector waits this long (doubling up to the cap)
# before trying again: a restarting database should not be hammered, and the cap keeps a
# recovered database's first writes visible within seconds.
RETRY_FIRST = 0.25
RETRY_CAP = 4.0


@dataclass
class RebuildSummary:
    models: list[str]
    events: int
    seconds: float
    head: int
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class Projector:
    def __init__(
        self,
        conninfo: str,
        models: Sequence[type[ReadModel]] | None = None,
        *,
        batch_size: int = 2_000,
        decoder: Decoder = default_mapper,
        observer: Observer | None = None,
        rebuild_processes: int = 1,
        process_setup: Setup | None = None,
    ) -> None:
        """``decoder`` makes the mapper that decodes events, for this process and for a
        rebuild's helper processes; ``process_setup`` prepares such a process
        (``projections.rebuild``): both must be picklable when ``rebuild_processes`` > 1."""
        if models is None:
            models = READ_MODELS
        self.conninfo = conninfo
        self.model_classes = list(models)
        self.models = [cls() for cls in self.model_classes]
        self.batch_size = batch_size
        self.decoder = decoder
        self.mapper = decoder(conninfo)
        self.rebuild_processes = rebuild_processes
        self.process_setup = process_setup
        self.observer = observer
        self._conn: psycopg.Connection[Any] | None = None

    # --- connection -------------------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------

    def setup(self, *, rebuild_changed: bool = True) -> None:
        """Create every read model's schema, tables and checkpoint if missing.

        A read model built by an earlier release whose tables have since changed shape
        (``ReadModel.shape``) cannot take the new code's writes: it is rebuilt from the
        log here (its old tables serve reads until the swap), unless ``rebuild_changed``
        is False (an API process leaves that to the projector and leaves it untouched).
        """
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (PROJECTOR_LOCK,))
            changed = [model.name for model in self.models if schemas.shape_changed(cur, model)]
            for model in self.models:
                if model.name not in changed:
                    schemas.create(cur, model)
        if changed and rebuild_changed:
            log.warning(
                "read models changed shape since they were built (%s): rebuilding them "
                "from the log", ", ".join(changed),
            )  # fmt: skip
            self.rebuild(changed)

    # --- reading the log ------------------------------------------------------------------

    def head(self) -> int:
        return head_position(self.conn)

    def checkpoints(self, models: Sequence[ReadModel] | None = None) -> dict[str, int]:
        """Each model's last applied position (0 if none)."""
        return checkpoints_of(self.conn, models or self.models)

    # --- applying -------------------------------------------------------------------------

    def process_batch(self, models: Sequence[ReadModel] | None = None) -> int:
        """Apply the next batch to the given models; returns how many events it held."""
        models = list(models or self.models)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (PROJECTOR_LOCK,))
            checkpoints = checkpoints_of(self.conn, models)
            start = min(checkpoints.values(), default=0)
            events = read_batch(cur, self.mapper, start, self.batch_size)
            if not events:
                return 0
            with collation.remembering():
                apply_safely(self.conn, Batch(events, models, checkpoints))
            cur.execute("SELECT pg_notify(%s, %s)", (PROJECTED_CHANNEL, str(events[-1].position)))
            return len(events)

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply everything up to the head of the log; returns the last position applied."""
        self.setup()
        start = min(self.checkpoints().values(), default=0)
        total = max(self.head() - start, 0)
        done = 0
        while count := self.process_batch():
            done += count
            if progress:
                progress(done, max(total, done))
        return min(self.checkpoints().values(), default=0)

    # --- following the log live -----------------------------------------------------------

    def run_forever(self, stop: threading.Event, *, idle_timeout: float = 5.0) -> None:
        """Follow the log: wake on the recorder's NOTIFY, catch up, sleep again.

        ``idle_timeout`` only bounds how long a lost notification can delay a batch;
        there is no busy polling.
        """
        listener = psycopg.connect(self.conninfo, autocommit=True)
        try:
            listener.execute("SELECT pg_advisory_lock_shared(%s)", (PROJECTOR_RUNNING_LOCK,))
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_CHANNEL)))
            self.setup()
            while not stop.is_set():
                applied = self.process_batch()
                self._report(applied)
                if applied < self.batch_size:
                    # A short batch read up to the head: wait for news rather than read an
                    # empty batch first (a transaction and two more queries for each
                    # registration when they come one by one). Events committed while the
                    # batch ran have their notification waiting already.
                    for _ in listener.notifies(timeout=idle_timeout, stop_after=1):
                        pass
        finally:
            listener.close()

    def _report(self, applied: int) -> None:
        if self.observer is not None:
            self.observer(self.head(), self.checkpoints(), applied)

    def follow(self, stop: threading.Event, *, idle_timeout: float = 5.0) -> None:
        """``run_forever`` that outlives database outages and restarts.

        A batch in flight when the connection drops rolls back with its checkpoint, so
        resuming from the checkpoints after a reconnect applies every event exactly once.
        """
        delay = RETRY_FIRST
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.run_forever(stop, idle_timeout=idle_timeout)
            except psycopg.OperationalError as error:
                if time.monotonic() - started > RETRY_CAP:
                    delay = RETRY_FIRST  # it had been running: a new outage, not the same one
                # The error's class only: its message may quote a statement's parameters.
                log.warning("projector lost the database (%s); retry in %.2f s",
                            type(error).__name__, delay)  # fmt: skip
                self.close()
                stop.wait(delay)
                delay = min(delay * 2, RETRY_CAP)

    # --- rebuild ----------------------------------------------------------------------------

    def rebuild(
        self, names: Sequence[str] | None = None, progress: Progress | None = None
    ) -> RebuildSummary:
        """Recompute read models from position 0 into fresh schemas, then swap them in.

        Reads keep using the old tables until the swap, which is one short transaction.
        An interrupted rebuild leaves the old read models serving; its half-built
        schemas are dropped when the next rebuild starts. The fresh schemas are filled in
        ``rebuild_processes`` processes (``projections.rebuild``).
        """
        chosen = [cls for cls in self.model_classes if names is None or cls.name in names]
        unknown = set(names or ()) - {cls.name for cls in chosen}
        if unknown:
            raise ValueError(f"unknown read models: {', '.join(sorted(unknown))}")
        fresh = [rebuilding.fresh(cls) for cls in chosen]
        started = time.perf_counter()
        done = rebuilding.fill_shared(
            self.conninfo, self.conn, (self.decoder, self.mapper), fresh, self.batch_size,
            processes=self.rebuild_processes, setup=self.process_setup, progress=progress,
        )  # fmt: skip
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (PROJECTOR_LOCK,))
            # Events that arrived since the fill read them are applied under the lock, so
            # the swapped-in models are exactly at the head when readers first see them.
            while True:
                checkpoints = checkpoints_of(self.conn, fresh)
                start = min(checkpoints.values(), default=0)
                events = read_batch(cur, self.mapper, start, self.batch_size)
                if not events:
                    break
                done += len(events)
                apply_safely(self.conn, Batch(events, fresh, checkpoints))
            for model in fresh:
                schemas.swap(cur, model)
            cur.execute("SELECT pg_notify(%s, %s)", (PROJECTED_CHANNEL, "rebuilt"))
        seconds = time.perf_counter() - started
        for model in fresh:
            model.schema = model.live_schema()
        rows = {m.name: schemas.row_count(self.conn, m) for m in fresh}
        return RebuildSummary([m.name for m in fresh], done, seconds, self.head(), rows)

    def retry_quarantined(
        self, names: Sequence[str] | None = None, progress: Progress | None = None
    ) -> RebuildSummary:
        """After a fix, give the events set aside another try.

        Read models apply events in log order, so an event cannot be slipped in late: the
        models that set events aside (or those named) are rebuilt, and whatever still
        fails is set aside again.
        """
        if names is None:
            names = sorted({q.model for q in quarantine.quarantined(self.conn, self.models)})
        if not names:
            return RebuildSummary([], 0, 0.0, self.head())
        return self.rebuild(names, progress)

    # --- read-your-writes -----------------------------------------------------------------

    def wait_for(self, position: int, timeout: float) -> bool:
        return wait_for_position(self.conn, position, timeout, self.models)


def projector_running(conn: psycopg.Connection[Any]) -> bool:
    """Whether a live projector (``campledger project`` or serve's) follows the log."""
    # A bigint advisory key below 2**32 shows as classid 0, objid key, objsubid 1.
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND classid = 0 AND objid = %s AND objsubid = 1)",
        (PROJECTOR_RUNNING_LOCK,),
    ).fetchone()
    return bool(row and row[0])


@contextmanager
def projector_thread(projector: Projector) -> Iterator[threading.Thread]:
    """Run a live projector in a background thread for the duration of the block."""
    stop = threading.Event()

    def follow() -> None:
        # The thread closes its own connection: closed from outside while a batch is
        # still being applied (a slow machine, a long batch), libpq's state went from
        # under the call in flight and the process crashed.
        try:
            projector.follow(stop, idle_timeout=1.0)
        finally:
            projector.close()

    thread = threading.Thread(target=follow, daemon=True, name="projector")
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)
