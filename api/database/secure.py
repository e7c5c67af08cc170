"""``campledger db secure``: an append-only event log on an external PostgreSQL.

Run as the database owner (or a superuser). It leaves:

- a least-privileged login role for the application: SELECT and INSERT on the event table
  and the access trail, never UPDATE, DELETE or TRUNCATE; what the recorder needs on the
  claims and idempotency tables; ownership of the read-model schemas (rebuilds drop and
  rename them);
- a trigger on the event table and on the access trail that refuses UPDATE, DELETE and
  TRUNCATE for everyone, the owner included (belt and braces: a role granted too much by
  mistake later is still refused, and only a superuser can switch triggers off);
- the key store (``keystore`` schema) readable, and writable only as the recorder and an
  erasure need: keys inserted and overwritten, never deleted;
- ``<events>_lock()``, a SECURITY DEFINER function that takes the recorder's insert lock on
  the owner's authority (LOCK ... EXCLUSIVE needs UPDATE/DELETE/TRUNCATE before PG 17).

The password is hashed by libpq on this side (SCRAM) before it is sent, so it never
appears in the server's statement log, and it is never printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from campledger.api.database.access_trail import TABLE as ACCESS_TRAIL
from campledger.api.database.access_trail import create_access_trail
from campledger.api.database.gazetteer import TABLE as GAZETTEER
from campledger.api.database.gazetteer import create_gazetteer
from campledger.api.database.keystore import SCHEMA as KEY_SCHEMA

EVENTS = "registry_events"
KEYS = f"{KEY_SCHEMA}.person_keys"
MASTER = f"{KEY_SCHEMA}.master"
GUARD_FUNCTION = "campledger_append_only"


@dataclass
class SecureReport:
    role: str
    created: bool
    guarded: list[str]
    read_schemas: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)


def secure_database(
    conn: psycopg.Connection[Any], role: str, password: str | None, *, events: str = EVENTS
) -> SecureReport:
    """Create or update the application role and the append-only guards, in one transaction.

    The event tables must exist (create them by starting the Registry once as the owner).
    """
    claims, commands = f"{events}_claims", f"{events}_commands"
    # Which idempotency keys have a request under way: rows come and go (recorder.py).
    inflight = f"{events}_inflight"
    create_access_trail(conn)
    # The application reads the gazetteer when a site is opened; only the owner loads it.
    create_gazetteer(conn)
    with conn.transaction():
        for table in (events, claims, commands, inflight, KEYS, MASTER):
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
                raise RuntimeError(f"table {table} does not exist: start campledger once first")
        row = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        created = row is None
        r = sql.Identifier(role)
        if created:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(r))
        if password:
            hashed = conn.pgconn.encrypt_password(password.encode(), role.encode(), None)
            conn.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(r, sql.Literal(hashed.decode()))
            )
        # The role must not own what it may not change: an owner can drop the trigger.
        me = sql.SQL("CURRENT_USER")
        for table in (events, ACCESS_TRAIL):
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), me))

        guarded = [_guard(conn, table) for table in (events, ACCESS_TRAIL)]
        _lock_function(conn, events, r)

        dbname = conn.info.dbname
        grants = [
            f"CONNECT, CREATE ON DATABASE {dbname}",
            "USAGE ON SCHEMA public",
            f"SELECT, INSERT ON {events}",
            f"SELECT, INSERT, DELETE ON {claims}",
            f"SELECT, INSERT ON {commands}",
            f"SELECT, INSERT, UPDATE, DELETE ON {inflight}",
            f"SELECT, INSERT ON {ACCESS_TRAIL}",
            f"SELECT ON {GAZETTEER}",
            f"USAGE ON SCHEMA {KEY_SCHEMA}",
            f"SELECT, INSERT, UPDATE ON {KEYS}",
            f"SELECT, UPDATE ON {MASTER}",
        ]
        statements = [
            sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(sql.Identifier(dbname), r),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
            # The key store: keys are added with their person's first events and erased
            # (overwritten with NULL, the row kept) by an erasure; never deleted.
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(KEY_SCHEMA), r),
        ]
        for table, privileges in (
            (events, "SELECT, INSERT"),
            (claims, "SELECT, INSERT, DELETE"),
            (commands, "SELECT, INSERT"),
            (inflight, "SELECT, INSERT, UPDATE, DELETE"),
            (ACCESS_TRAIL, "SELECT, INSERT"),
            (GAZETTEER, "SELECT"),
            (KEYS, "SELECT, INSERT, UPDATE"),
            (MASTER, "SELECT, UPDATE"),
        ):
            t = sql.Identifier(*table.split("."))
            # Revoke first: re-running the command after a mistaken grant must narrow it.
            statements.append(sql.SQL("REVOKE ALL ON {} FROM {}, PUBLIC").format(t, r))
            statements.append(sql.SQL("GRANT " + privileges + " ON {} TO {}").format(t, r))
        for sequence in (f"{events}_notification_id_seq", f"{ACCESS_TRAIL}_id_seq"):
            statements.append(
                sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(
                    sql.Identifier(sequence), r
                )
            )
        for statement in statements:
            conn.execute(statement)

        read_schemas = [
            name
            for (name,) in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read\\_%' ORDER BY 1"
            )
        ]
        for schema in read_schemas:
            _hand_over(conn, schema, r)
    return SecureReport(role, created, guarded, read_schemas, grants)


def _guard(conn: psycopg.Connection[Any], table: str) -> str:
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'campledger: % on % refused: the table is append-only', "
            "TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$"
        ).format(sql.Identifier(GUARD_FUNCTION))
    )
    # Statement-level: refuses the attempt itself, even one that would touch no row.
    name = f"{table}_append_only"
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {} BEFORE UPDATE OR DELETE OR TRUNCATE ON {} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {}()"
        ).format(sql.Identifier(name), sql.Identifier(table), sql.Identifier(GUARD_FUNCTION))
    )
    return table


def _lock_function(conn: psycopg.Connection[Any], events: str, role: sql.Identifier) -> None:
    function = sql.Identifier(f"{events}_lock")
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION public.{}() RETURNS void LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = pg_catalog, public AS $$ BEGIN "
            "LOCK TABLE public.{} IN EXCLUSIVE MODE; END $$"
        ).format(function, sql.Identifier(events))
    )
    conn.execute(sql.SQL("REVOKE ALL ON FUNCTION public.{}() FROM PUBLIC").format(function))
    conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION public.{}() TO {}").format(function, role))


def _hand_over(conn: psycopg.Connection[Any], schema: str, role: sql.Identifier) -> None:
    # Read models are disposable and rebuilt by the application (drop, create, rename
    # schemas), so the role owns them outright.
    s = sql.Identifier(schema)
    conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(s, role))
    tables = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm')",
        (schema,),
    ).fetchall()
    for (table,) in tables:
        conn.execute(
            sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(s, sql.Identifier(table), role)
        )
