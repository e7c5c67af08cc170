"""The projection engine: reads the event log in order and keeps read models current.

Each batch is read, decoded once, applied to every read model that has not yet
seen it, and committed in one transaction together with each model's checkpoint
(its tracking record). A crash at any point leaves each model exactly at its
last committed checkpoint, so restarting applies every event exactly once.

The log is safe to tail by position: the event recorder takes an exclusive
table lock for every insert, so positions are committed in the order they are
issued and no slower transaction can later fill a gap behind a reader.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent, Tracking
from psycopg import sql

from campledger.domain.persistence.codec import FastMapper
from campledger.projections import quarantine
from campledger.projections.catalog import READ_MODELS
from campledger.projections.readmodel import Envelope, ReadModel, Undecodable

log = logging.getLogger(__name__)

APPLICATION_NAME = "Registry"
EVENTS_TABLE = "registry_events"
# The channel the event recorder NOTIFYs on every insert (the library names it after the table).
EVENTS_CHANNEL = "registry_events"
# One lock serialises batches of every projector process with the swap at the end of a
# rebuild, so a swap never lands between a batch's read of checkpoints and its commit.
PROJECTOR_LOCK = 0x63616D70  # "camp"
# Sent when a batch (or a rebuild's swap) commits, so API processes waiting for a client's
# own write wake at once instead of polling the checkpoints.
PROJECTED_CHANNEL = "campledger_projected"
# Held (shared) by every live projector's listening connection for as long as it follows
# the log, so readiness can see one runs; the server drops it with the connection, however
# the process ends.
PROJECTOR_RUNNING_LOCK = 0x6C697665  # "live"
# SQLSTATE classes of a failure that says nothing about the events: the connection or the
# server (08, 57P, 53), a lock wait or cancel (55P03, 57014), a deadlock or serialisation
# failure (40). The batch is retried whole once it passes, never blamed on an event.
TRANSIENT_SQLSTATES = ("08", "57P", "53", "55P03", "57014", "40")

Progress = Callable[[int, int], None]

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


def default_mapper() -> Mapper[Any]:
    return FastMapper()


class Projector:
    def __init__(
        self,
        conninfo: str,
        models: Sequence[type[ReadModel]] | None = None,
        *,
        batch_size: int = 2_000,
        mapper: Mapper[Any] | None = None,
    ) -> None:
        if models is None:
            models = READ_MODELS
        self.conninfo = conninfo
        self.model_classes = list(models)
        self.models = [cls() for cls in self.model_classes]
        self.batch_size = batch_size
        self.mapper = mapper or default_mapper()
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
            changed = [model.name for model in self.models if _shape_changed(cur, model)]
            for model in self.models:
                if model.name not in changed:
                    _create(cur, model)
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

    def _read(self, cur: psycopg.Cursor[Any], after: int, limit: int) -> list[Envelope]:
        cur.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            ).format(sql.Identifier(EVENTS_TABLE)),
            (after, limit),
            prepare=True,
        )
        to_event = self.mapper.to_domain_event
        batch = []
        for position, originator_id, version, topic, state in cur.fetchall():
            state = bytes(state)
            event: Any
            try:
                event = to_event(StoredEvent(originator_id, version, topic, state))
            except Exception as error:
                # Set aside per read model when applied; the ledger still chains its bytes.
                event = Undecodable(quarantine.describe(error))
            batch.append(Envelope(position, originator_id, version, topic, event, state))
        return batch

    # --- applying -------------------------------------------------------------------------

    def process_batch(self, models: Sequence[ReadModel] | None = None) -> int:
        """Apply the next batch to the given models; returns how many events it held."""
        models = list(models or self.models)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (PROJECTOR_LOCK,))
            checkpoints = checkpoints_of(self.conn, models)
            start = min(checkpoints.values(), default=0)
            batch = self._read(cur, start, self.batch_size)
            if not batch:
                return 0
            self._apply_safely(models, checkpoints, batch)
            cur.execute("SELECT pg_notify(%s, %s)", (PROJECTED_CHANNEL, str(batch[-1].position)))
            return len(batch)

    def _apply_safely(
        self, models: Sequence[ReadModel], checkpoints: dict[str, int], batch: list[Envelope]
    ) -> None:
        """Apply a batch at full speed; if it fails, find the events to blame and set them
        aside, so that one event no read model can apply never stops the others."""
        try:
            with self.conn.transaction():  # a savepoint in the caller's transaction
                self._apply(models, checkpoints, batch)
        except Exception as error:
            if self._transient(error):
                raise
            log.warning(
                "a batch up to position %d failed (%s); applying it event by event",
                batch[-1].position, quarantine.describe(error),
            )  # fmt: skip
            for model in models:
                model.forget()
            self._apply_carefully(models, checkpoints, batch)

    def _apply(
        self, models: Sequence[ReadModel], checkpoints: dict[str, int], batch: list[Envelope]
    ) -> None:
        """Apply a batch to each model that has not seen all of it, with its checkpoint."""
        start = min(checkpoints.values(), default=0)
        last = batch[-1].position
        # A cursor per model: in pipeline mode psycopg hands each result to the cursor that
        # sent the statement whenever it arrives, so a model reading its own table (the
        # ledger's last link) on a cursor shared with the models before it could fetch
        # one of their results instead of its own, and the batch would fail.
        with ExitStack() as cursors, self.conn.pipeline():
            for model in models:
                seen = checkpoints[model.name]
                todo = batch if seen <= start else [e for e in batch if e.position > seen]
                if todo:
                    cur = cursors.enter_context(self.conn.cursor())
                    todo = _set_aside_undecodable(cur, model, todo)
                    model.apply(cur, todo)
                    _record_checkpoint(cur, model, last)

    def _apply_carefully(
        self, models: Sequence[ReadModel], checkpoints: dict[str, int], batch: list[Envelope]
    ) -> None:
        """Apply each model alone, halving any part that fails down to the one event that
        does, which is quarantined for that model: a few savepoints per bad event."""
        last = batch[-1].position
        with self.conn.cursor() as cur:
            for model in models:
                todo = [e for e in batch if e.position > checkpoints[model.name]]
                if todo:
                    self._bisect(cur, model, _set_aside_undecodable(cur, model, todo))
                    _record_checkpoint(cur, model, last)

    def _transient(self, error: Exception) -> bool:
        if isinstance(error, psycopg.InterfaceError) or self.conn.broken:
            return True
        sqlstate = getattr(error, "sqlstate", None) or ""
        return isinstance(error, psycopg.OperationalError) and (
            not sqlstate or sqlstate.startswith(TRANSIENT_SQLSTATES)
        )

    def _bisect(self, cur: psycopg.Cursor[Any], model: ReadModel, todo: list[Envelope]) -> None:
        if not todo:
            return
        try:
            with self.conn.transaction():
                model.apply(cur, todo)
            return
        except Exception as error:
            if self._transient(error):
                raise
            model.forget()
            if len(todo) > 1:
                middle = len(todo) // 2
                self._bisect(cur, model, todo[:middle])
                self._bisect(cur, model, todo[middle:])
                return
            _quarantine(cur, model, todo[0], quarantine.describe(error))

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
                while self.process_batch() and not stop.is_set():
                    pass
                for _ in listener.notifies(timeout=idle_timeout, stop_after=1):
                    pass
        finally:
            listener.close()

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
        schemas are dropped when the next rebuild starts.
        """
        chosen = [cls for cls in self.model_classes if names is None or cls.name in names]
        unknown = set(names or ()) - {cls.name for cls in chosen}
        if unknown:
            raise ValueError(f"unknown read models: {', '.join(sorted(unknown))}")
        fresh = [cls(schema=f"{cls.live_schema()}__rebuild") for cls in chosen]
        started = time.perf_counter()
        with self.conn.transaction(), self.conn.cursor() as cur:
            for model in fresh:
                cur.execute(model.q("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                _create(cur, model)
        head = self.head()
        done = 0
        while True:
            count = self.process_batch(fresh)
            done += count
            if progress:
                progress(done, max(head, done))
            if count == 0:
                break
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (PROJECTOR_LOCK,))
            # Events that arrived since the last batch are applied under the lock, so the
            # swapped-in models are exactly at the head when readers first see them.
            while True:
                checkpoints = checkpoints_of(self.conn, fresh)
                start = min(checkpoints.values(), default=0)
                batch = self._read(cur, start, self.batch_size)
                if not batch:
                    break
                done += len(batch)
                self._apply_safely(fresh, checkpoints, batch)
            for model in fresh:
                _swap(cur, model)
            cur.execute("SELECT pg_notify(%s, %s)", (PROJECTED_CHANNEL, "rebuilt"))
        seconds = time.perf_counter() - started
        for model in fresh:
            model.schema = model.live_schema()
        rows = {m.name: _row_count(self.conn, m) for m in fresh}
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


def _create(cur: psycopg.Cursor[Any], model: ReadModel) -> None:
    model.create(cur)
    cur.execute(model.q("CREATE TABLE IF NOT EXISTS {schema}.shape (shape text NOT NULL)"))
    cur.execute(
        model.q(
            "INSERT INTO {schema}.shape (shape) SELECT %s "
            "WHERE NOT EXISTS (SELECT FROM {schema}.shape)"
        ),
        (model.shape(),),
    )
    cur.execute(
        model.q(
            "CREATE TABLE IF NOT EXISTS {schema}.tracking ("
            "application_name text PRIMARY KEY, notification_id bigint NOT NULL)"
        )
    )
    cur.execute(model.q(quarantine.DDL))


def _shape_changed(cur: psycopg.Cursor[Any], model: ReadModel) -> bool:
    """True when the model's live tables were built for another shape: stamped with
    another one, or built before shapes were stamped (a checkpoint but no stamp)."""
    live = model.live_schema()
    cur.execute(
        "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
        (f'"{live}".tracking', f'"{live}".shape'),
    )
    built, stamped = cur.fetchone() or (False, False)
    if not built:
        return False
    if not stamped:
        return True
    cur.execute(sql.SQL("SELECT shape FROM {}.shape").format(sql.Identifier(live)))
    row = cur.fetchone()
    return row is None or row[0] != model.shape()


def _quarantine(cur: psycopg.Cursor[Any], model: ReadModel, envelope: Envelope, error: str) -> None:
    # Positions and classes only: the event itself carries names and dates of birth.
    log.error(
        "read model %s could not apply the event at position %d (%s): set aside; "
        "see `campledger quarantine list`", model.name, envelope.position, error,
    )  # fmt: skip
    quarantine.record(cur, model, envelope, error)


def _set_aside_undecodable(
    cur: psycopg.Cursor[Any], model: ReadModel, todo: list[Envelope]
) -> list[Envelope]:
    """The events of ``todo`` the model can be given: an event that could not be decoded is
    quarantined for every model that reads decoded events (the ledger chains raw bytes)."""
    if model.reads_raw_events or not any(isinstance(e.event, Undecodable) for e in todo):
        return todo
    for envelope in todo:
        if isinstance(envelope.event, Undecodable):
            _quarantine(cur, model, envelope, envelope.event.error)
    return [e for e in todo if not isinstance(e.event, Undecodable)]


def _swap(cur: psycopg.Cursor[Any], model: ReadModel) -> None:
    live = model.live_schema()
    old = sql.Identifier(f"{live}__old")
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(old))
    if _schema_exists(cur, live):
        cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(live), old))
    cur.execute(
        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
            sql.Identifier(model.schema), sql.Identifier(live)
        )
    )
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(old))


def _record_checkpoint(cur: psycopg.Cursor[Any], model: ReadModel, position: int) -> None:
    tracking = Tracking(application_name=APPLICATION_NAME, notification_id=position)
    cur.execute(
        model.q(
            "INSERT INTO {schema}.tracking AS t (application_name, notification_id) "
            "VALUES (%s, %s) ON CONFLICT (application_name) DO UPDATE "
            "SET notification_id = EXCLUDED.notification_id "
            "WHERE t.notification_id < EXCLUDED.notification_id"
        ),
        (tracking.application_name, tracking.notification_id),
    )


def checkpoints_of(conn: psycopg.Connection[Any], models: Sequence[ReadModel]) -> dict[str, int]:
    if not models:
        return {}
    rows = conn.execute(checkpoints_query(models)).fetchall()
    return {name: int(position or 0) for name, position in rows}


def checkpoints_query(models: Sequence[ReadModel]) -> sql.Composed:
    """One statement answering (name, checkpoint or NULL) for each of ``models``."""
    parts = [
        sql.SQL(
            "SELECT {} AS name, (SELECT notification_id FROM {}.tracking "
            "WHERE application_name = {})"
        ).format(sql.Literal(m.name), sql.Identifier(m.schema), sql.Literal(APPLICATION_NAME))
        for m in models
    ]
    return sql.SQL(" UNION ALL ").join(parts)


def _schema_exists(cur: psycopg.Cursor[Any], schema: str) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None


def _row_count(conn: psycopg.Connection[Any], model: ReadModel) -> int:
    # Counted, not taken from pg_stat_user_tables: the statistics lag the rebuild's
    # inserts by a second or more, and read 0 for tables just filled.
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_name NOT IN ('tracking', 'quarantine', 'shape')",
        (model.schema,),
    ).fetchall()
    if not tables:
        return 0
    counts = sql.SQL(" + ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(model.schema, table))
        for (table,) in tables
    )
    row = conn.execute(sql.SQL("SELECT ") + counts).fetchone()
    return int(row[0]) if row else 0


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


def head_position(conn: psycopg.Connection[Any]) -> int:
    """The last position written to the log (0 when it is empty)."""
    row = conn.execute(
        sql.SQL("SELECT COALESCE(MAX(notification_id), 0) FROM {}").format(
            sql.Identifier(EVENTS_TABLE)
        )
    ).fetchone()
    return int(row[0]) if row else 0


def reached_position(conn: psycopg.Connection[Any]) -> int:
    """The position every read model of the catalog has applied."""
    return min(checkpoints_of(conn, [cls() for cls in READ_MODELS]).values(), default=0)


def wait_for_position(
    conn: psycopg.Connection[Any],
    position: int,
    timeout: float,
    models: Sequence[ReadModel] | None = None,
) -> bool:
    """Block until every read model has applied ``position`` (or the timeout passes)."""
    if models is None:
        models = [cls() for cls in READ_MODELS]
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if min(checkpoints_of(conn, models).values(), default=position) >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.1)


@contextmanager
def projector_thread(projector: Projector) -> Iterator[threading.Thread]:
    """Run a live projector in a background thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(
        target=projector.follow,
        args=(stop,),
        kwargs={"idle_timeout": 1.0},
        daemon=True,
        name="projector",
    )
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)
        projector.close()
