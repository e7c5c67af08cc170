"""Reading the journal the recorder writes beside the events: idempotency records and
unique claims. Mixed into the recorder (``recorder.CampledgerRecorder``), which names the
tables and holds the key ring the claims are hashed with.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import retry
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from campledger.api.database.keyed_claims import claim_digest
from campledger.domain.service.journal import StoredCommand


class JournalReads:
    datastore: PostgresDatastore
    claims_table_name: str
    commands_table_name: str
    key_ring: object | None

    def _statement(self, text: str) -> Composed:
        return SQL(text).format(
            schema=Identifier(self.datastore.schema),
            claims=Identifier(self.claims_table_name),
            commands=Identifier(self.commands_table_name),
        )

    @cached_property
    def select_command_statement(self) -> Composed:
        return self._statement(
            "SELECT command, fingerprint, result, position FROM {schema}.{commands} "
            "WHERE actor = %s AND key = %s"
        )

    @cached_property
    def select_commands_statement(self) -> Composed:
        return self._statement(
            "SELECT c.actor, c.key, c.command, c.fingerprint, c.result, c.position "
            "FROM {schema}.{commands} AS c "
            "JOIN unnest(%s::text[], %s::text[]) AS k(actor, key) "
            "ON c.actor = k.actor AND c.key = k.key"
        )

    @cached_property
    def select_results_statement(self) -> Composed:
        return self._statement(
            "SELECT result FROM {schema}.{commands} "
            "WHERE actor = %s AND starts_with(key, %s) AND command = %s"
        )

    @cached_property
    def select_claim_statement(self) -> Composed:
        return self._statement(
            "SELECT owner_id FROM {schema}.{claims} WHERE scope = %s AND value = %s"
        )

    @cached_property
    def select_claims_statement(self) -> Composed:
        return self._statement(
            "SELECT value, owner_id FROM {schema}.{claims} WHERE scope = %s AND value = ANY(%b)"
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def find_command(self, actor: str, key: str) -> StoredCommand | None:
        """The command stored under this actor's idempotency key, if any."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_command_statement, (actor, key), prepare=True)
            row = curs.fetchone()
        return None if row is None else stored_command(row)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def find_commands(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredCommand]:
        """The commands stored under any of these (actor, key) pairs, in one query."""
        if not keys:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_commands_statement, ([a for a, _ in keys], [k for _, k in keys])
            )
            rows = curs.fetchall()
        return {(row["actor"], row["key"]): stored_command(row) for row in rows}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def find_claim(self, scope: str, value: str) -> UUID | None:
        """The person holding this unique value, if any."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_claim_statement,
                (scope, claim_digest(self.key_ring, scope, value)),
                prepare=True,
            )
            row = curs.fetchone()
        return None if row is None else row["owner_id"]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def find_claims(self, scope: str, values: Sequence[str]) -> dict[str, UUID]:
        """Which of these values are held, and by whom, in one query."""
        if not values:
            return {}
        digests = {claim_digest(self.key_ring, scope, value): value for value in values}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_claims_statement, (scope, list(digests)))
            rows = curs.fetchall()
        return {digests[row["value"]]: row["owner_id"] for row in rows}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def find_results(self, actor: str, command: str, key_prefix: str) -> list[dict[str, Any]]:
        """The results of this actor's commands of one kind whose idempotency keys start
        with ``key_prefix``: what one client's related requests did."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_results_statement, (actor, key_prefix, command))
            rows = curs.fetchall()
        return [row["result"] for row in rows]


def stored_command(row: DictRow) -> StoredCommand:
    return StoredCommand(
        command=row["command"],
        fingerprint=row["fingerprint"],
        result=row["result"],
        position=row["position"],
    )
