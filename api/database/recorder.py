"""The PostgreSQL application recorder: events, unique claims and idempotency records.

Everything a command writes goes into one transaction, under the event table's insert
lock, so a clash of any kind (aggregate version, claimed value, idempotency key) raises
the library's ``IntegrityError`` and leaves no trace. Same contract as
``domain.memory.InMemoryRecorder``.

Tables, named after the application's event table (``registry_events`` for the Registry):

- ``<events>_claims (scope, value, owner_id)``: one row per value only one person may hold;
  ``value`` is a keyed hash of it (the key store's claims key), never the value itself.
- ``<events>_commands (actor, key, command, fingerprint, result, position, recorded_at)``:
  one row per idempotency key; ``position`` is the highest notification id of its events.
- ``<events>_inflight (actor, key, started_at)``: the keys whose request is being applied,
  written and deleted each in a transaction of its own, outside the command's.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any, cast
from uuid import UUID

import orjson
import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor, Pipeline
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from campledger.api.database import pipelines
from campledger.api.database.journal_reads import JournalReads, stored_command
from campledger.api.database.keyed_claims import claim_columns
from campledger.api.database.keystore import PostgresKeyRing, write_key_changes
from campledger.api.database.many_records import ManyRecordsReader
from campledger.domain.service.journal import JournalWrites, KeyClaim

__all__ = ["CampledgerRecorder"]

# Any constant works; one of our own, to be recognisable in pg_locks. Released when the
# connection holding it closes.
SETUP_LOCK_STATEMENT = SQL("SELECT pg_advisory_lock(7265836001)")
BEGIN, COMMIT = SQL("BEGIN"), SQL("COMMIT")


class CampledgerRecorder(JournalReads, ManyRecordsReader, PostgresApplicationRecorder):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.claims_table_name = f"{events_table_name}_claims"
        self.commands_table_name = f"{events_table_name}_commands"
        self.inflight_table_name = f"{events_table_name}_inflight"
        self.check_identifier_length(self.inflight_table_name)
        self.check_identifier_length(self.claims_table_name)
        self.check_identifier_length(self.commands_table_name)
        identifiers = {
            "schema": Identifier(self.datastore.schema),
            "events": Identifier(self.events_table_name),
            "claims": Identifier(self.claims_table_name),
            "commands": Identifier(self.commands_table_name),
            "inflight": Identifier(self.inflight_table_name),
            "id_type": Identifier(self.datastore.originator_id_type),
        }

        def statement(text: str) -> Composed:
            return SQL(text).format(**identifiers)

        self.sql_create_statements.append(
            statement(
                "CREATE TABLE IF NOT EXISTS {schema}.{claims} ("
                "scope text NOT NULL, value text NOT NULL, owner_id {id_type} NOT NULL, "
                "PRIMARY KEY (scope, value))"
            )
        )
        self.sql_create_statements.append(
            statement(
                "CREATE TABLE IF NOT EXISTS {schema}.{commands} ("
                "actor text NOT NULL, key text NOT NULL, command text NOT NULL, "
                "fingerprint text NOT NULL, result jsonb NOT NULL, position bigint NOT NULL, "
                "recorded_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (actor, key))"
            )
        )

        self.sql_create_statements.append(
            statement(
                "CREATE TABLE IF NOT EXISTS {schema}.{inflight} ("
                "actor text NOT NULL, key text NOT NULL, "
                "started_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
                "PRIMARY KEY (actor, key))"
            )
        )
        # The key looked up and claimed in one statement: a command sent alone makes one
        # round trip for both. A key already used is not claimed: its command comes back.
        # Otherwise it is taken when free, or when its holder has held it past the expiry
        # (it stopped without letting go). One row comes back, always.
        self.claim_key_statement = statement(
            "WITH stored AS (SELECT command, fingerprint, result, position "
            "FROM {schema}.{commands} WHERE actor = %(actor)s AND key = %(key)s), "
            "claimed AS (INSERT INTO {schema}.{inflight} AS f (actor, key) "
            "SELECT %(actor)s, %(key)s WHERE NOT EXISTS (SELECT FROM stored) "
            "ON CONFLICT (actor, key) DO UPDATE SET started_at = clock_timestamp() "
            "WHERE f.started_at < clock_timestamp() - make_interval(secs => %(expiry)s) "
            "RETURNING 1) "
            "SELECT EXISTS (SELECT FROM claimed) AS claimed, s.command, s.fingerprint, "
            "s.result, s.position FROM (SELECT) AS one LEFT JOIN stored AS s ON true"
        )
        self.release_key_statement = statement(
            "DELETE FROM {schema}.{inflight} WHERE actor = %s AND key = %s"
        )

        # The events, then the idempotency records, in one statement (see _write). Flat
        # arrays instead of the library's composite type: no type registration. Sent in
        # binary (%b): text arrays would be quoted element by element with regular
        # expressions, which dominated batch time. WITH ORDINALITY + ORDER BY makes the
        # sequence hand out notification ids in the order the events were given, so a
        # record's position (its command's last event) is the save's highest id, or, for
        # a command of a unit of work (last_event ≥ 0), the id of that event.
        self.unnest_insert_statement = statement(
            "WITH e AS ("
            "INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state) "
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "WITH ORDINALITY AS e(originator_id, originator_version, topic, state, ord) "
            "ORDER BY e.ord "
            "RETURNING notification_id"
            # The ids in order, once: a record's position is read from it by index, not by
            # sorting the ids again for each record (quadratic in a unit of 1,000 commands).
            "), ids AS (SELECT array_agg(notification_id ORDER BY notification_id) AS a FROM e"
            "), c AS ("
            "INSERT INTO {schema}.{commands} "
            "(actor, key, command, fingerprint, result, position) "
            "SELECT r.actor, r.key, r.command, r.fingerprint, r.result::jsonb, coalesce("
            "CASE WHEN r.last_event < 0 THEN (SELECT a[cardinality(a)] FROM ids) "
            "ELSE (SELECT a[r.last_event + 1] FROM ids) END, 0) "
            "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], "
            "%b::bigint[]) AS r(actor, key, command, fingerprint, result, last_event)"
            ") "
            "SELECT notification_id FROM e ORDER BY notification_id"
        )
        self.release_claims_statement = statement(
            "DELETE FROM {schema}.{claims} AS c "
            "USING unnest(%s::text[], %s::text[], %s::{id_type}[]) AS r(scope, value, owner_id) "
            "WHERE c.scope = r.scope AND c.value = r.value AND c.owner_id = r.owner_id"
        )
        self.insert_claims_statement = statement(
            "INSERT INTO {schema}.{claims} (scope, value, owner_id) "
            "SELECT * FROM unnest(%b::text[], %b::text[], %b::{id_type}[])"
        )
        # Decided on the first insert (see _choose_lock).
        self._lock_chosen = False
        # Set by the Registry: new persons' keys are written with their first events.
        self.key_ring: object | None = None
        self.lock_function_name = f"{events_table_name}_lock"

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        try:
            ids: Sequence[int] | None = self._insert_events_retried(stored_events, **kwargs)
        except BaseException:
            if isinstance(self.key_ring, PostgresKeyRing):  # those keys were not stored
                self.key_ring.discard([e.originator_id for e in stored_events])
            raise
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_events_retried(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        writes = JournalWrites.take(kwargs)
        if not (stored_events or writes.claims or writes.released or writes.records):
            if writes.in_flight is not None:
                self.release_key(*writes.in_flight)
            return []
        exc: Exception | None = None
        notification_ids: list[int] = []
        # get_connection() maps psycopg errors to the library's (UniqueViolation becomes
        # IntegrityError), so the error is re-raised inside it.
        with self.datastore.get_connection() as conn:
            if not self._lock_chosen:
                self._choose_lock(conn)
            with conn.pipeline() as pipeline:
                try:
                    with conn.cursor() as curs, conn.cursor() as inserted:
                        try:
                            notification_ids = self._write(
                                pipeline, curs, inserted, stored_events, writes, kwargs
                            )
                        except BaseException:
                            # The statements sent after a failing one come back "aborted":
                            # take them now. Left for the pipeline's end, they raised
                            # "pipeline aborted" in place of the error itself whenever the
                            # refusal arrived early (a claim already taken, about every other
                            # time), which the retry above took for a lost connection.
                            with suppress(psycopg.Error):
                                pipelines.sync(conn, pipeline)
                            raise
                except Exception as e:
                    # Raising out of the pipeline block makes psycopg warn; keep it for later.
                    exc = e
            if exc is not None and conn.info.transaction_status != TransactionStatus.IDLE:
                # Refused half-way: the statements after the refusal were skipped, COMMIT
                # among them, and the transaction is left aborted. End it here.
                with suppress(psycopg.Error):
                    conn.rollback()
            if isinstance(exc, psycopg.errors.InvalidSqlStatementName):
                # This connection's prepared statements are gone though psycopg believes
                # them there (seen under heavy concurrency). The transaction rolled back
                # whole: drop the connection and let the retry take a fresh one.
                conn.close()
                raise InterfaceError("prepared statements lost; retrying") from exc
            if exc is not None:
                raise exc
        if isinstance(self.key_ring, PostgresKeyRing):
            self.key_ring.saved(cast("list[UUID]", [e.originator_id for e in stored_events]))
        if len(notification_ids) != len(stored_events):
            msg = f"expected {len(stored_events)} notification ids, got {len(notification_ids)}"
            raise IntegrityError(msg)
        return notification_ids

    def _write(
        self,
        pipeline: Pipeline,
        curs: Cursor[DictRow],
        inserted: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        writes: JournalWrites,
        kwargs: dict[str, Any],
    ) -> list[int]:
        """One command's transaction, sent whole and synced once; the events' notification
        ids.

        Every statement, from BEGIN to COMMIT, goes to the server before any answer is
        awaited: the insert lock taken at the start is then held only while the server
        works, never while this process waits for its turn to run Python. Waiting for an
        answer between statements kept the lock while the reply sat behind the other
        requests' threads, and every other writer queued behind it. A refusal (a claim
        taken, a key used) makes the server skip what follows, COMMIT included: the sync
        raises that first error, and the caller rolls back.
        """
        curs.execute(BEGIN)
        self._insert_events(curs, stored_events, **kwargs)
        # Lock first, then write: every writer queues at the same point, so two commands
        # claiming the same value cannot deadlock on each other.
        self._lock_table(curs)
        if writes.released:
            curs.execute(
                self.release_claims_statement, claim_columns(self.key_ring, writes.released)
            )
        if writes.claims:
            curs.execute(self.insert_claims_statement, claim_columns(self.key_ring, writes.claims))
        write_key_changes(curs, self.key_ring, stored_events)
        if stored_events:
            self._notify_channel(curs)
        if stored_events or writes.records:
            records = writes.records
            inserted.execute(
                self.unnest_insert_statement,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                    [r.actor for r in records],
                    [r.key for r in records],
                    [r.command for r in records],
                    [r.fingerprint for r in records],
                    [orjson.dumps(r.result).decode() for r in records],
                    [-1 if r.last_event is None else r.last_event for r in records],
                ),
                prepare=True,
            )
        if writes.in_flight is not None:
            curs.execute(self.release_key_statement, writes.in_flight, prepare=True)
        curs.execute(COMMIT)
        pipelines.sync(curs.connection, pipeline)
        if not stored_events:
            return []
        return [row["notification_id"] for row in inserted.fetchall()]

    def create_table(self) -> None:
        # API workers start together and each sets up the schema; PostgreSQL refuses two
        # concurrent CREATE TYPE or CREATE OR REPLACE FUNCTION of one name, so setups take
        # turns. The library's setup runs several transactions on its pool, so the lock is
        # a session lock on a connection of its own.
        pool = self.datastore.pool
        conninfo = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
        kwargs = (pool.kwargs() if callable(pool.kwargs) else pool.kwargs) or {}
        with psycopg.connect(conninfo, **{**kwargs, "autocommit": True}) as conn:
            conn.execute(SETUP_LOCK_STATEMENT)
            super().create_table()

    def _lock_table(self, curs: Cursor[DictRow]) -> None:
        # Same lock as the library takes (see its comment): commit order must equal
        # notification-id order, or a tailing reader could pass over a position that a
        # slower transaction fills in later.
        for lock_statement in self.lock_table_statements:
            curs.execute(lock_statement, prepare=True)

    def _choose_lock(self, conn: Any) -> None:
        """Take the insert lock through ``<events>_lock()`` when ``campledger db secure`` made it.

        A secured application role has no UPDATE, DELETE or TRUNCATE on the event table, and
        before PostgreSQL 17 (no MAINTAIN privilege) ``LOCK TABLE ... IN EXCLUSIVE MODE``
        needs one of them. The function is SECURITY DEFINER: it takes the very same lock,
        held until this transaction ends, on the table owner's authority.
        """
        name = f"{self.datastore.schema}.{self.lock_function_name}()"
        with conn.cursor() as curs:
            curs.execute("SELECT to_regprocedure(%s) IS NOT NULL AS found", (name,))
            row = curs.fetchone()
        if row is not None and row["found"]:
            self.lock_table_statements = [
                # The library's first statement: without it a secured database would wait
                # for the lock for ever, whatever CAMPLEDGER_LOCK_TIMEOUT says.
                SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
                SQL("SELECT {schema}.{function}()").format(
                    schema=Identifier(self.datastore.schema),
                    function=Identifier(self.lock_function_name),
                ),
            ]
        self._lock_chosen = True

    # The library's connections are in autocommit mode: each of these statements commits
    # alone. A BEGIN and COMMIT around it only added two round trips to every command.
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def claim_key(self, actor: str, key: str, expiry_seconds: float) -> KeyClaim:
        """Mark this actor's key in flight, committed at once so every other request sees
        it, unless a command is stored under it (then that command)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            params = {"actor": actor, "key": key, "expiry": expiry_seconds}
            curs.execute(self.claim_key_statement, params, prepare=True)
            row = curs.fetchone()
        assert row is not None  # one row, always
        stored = None if row["command"] is None else stored_command(row)
        return KeyClaim(claimed=row["claimed"], stored=stored)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def release_key(self, actor: str, key: str) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.release_key_statement, (actor, key), prepare=True)
