"""Each read model's schema: created with the stamp of its shape, its checkpoint and the
events it set aside; recognised when an earlier release built it for another shape; and,
after a rebuild into a fresh schema, swapped in for the live one.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from campledger.projections import quarantine
from campledger.projections.readmodel import ReadModel


def create(cur: psycopg.Cursor[Any], model: ReadModel, *, indexes: bool = True) -> None:
    """The model's schema and tables, each only if missing (and their indexes, unless the
    tables are to be filled first)."""
    model.create(cur, indexes=indexes)
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


def shape_changed(cur: psycopg.Cursor[Any], model: ReadModel) -> bool:
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


def swap(cur: psycopg.Cursor[Any], model: ReadModel) -> None:
    """Put the model's rebuilt schema in place of its live one (whose tables are dropped)."""
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


def set_logged(cur: psycopg.Cursor[Any], model: ReadModel, logged: bool) -> None:
    """Make the model's tables logged (the default) or unlogged. A rebuild fills fresh
    tables that nothing reads before the swap and that a crash would drop anyway: unlogged,
    their rows skip the write-ahead log, and are written to it once, whole, at the end."""
    mode = sql.SQL("LOGGED" if logged else "UNLOGGED")
    for table in _tables(cur, model):
        cur.execute(sql.SQL("ALTER TABLE {} SET {}").format(table, mode))


def analyze(cur: psycopg.Cursor[Any], model: ReadModel) -> None:
    """Gather the planner's statistics on the model's tables. Tables filled by a rebuild
    have none until autovacuum comes round (a minute or more): meanwhile the planner,
    guessing one row a site, read a whole site of 20,000 and sorted it to serve a roster
    page of 100 (9 ms instead of 0.1 ms)."""
    for table in _tables(cur, model):
        cur.execute(sql.SQL("ANALYZE {}").format(table))


def _tables(cur: psycopg.Cursor[Any], model: ReadModel) -> list[sql.Identifier]:
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        (model.schema,),
    )
    return [sql.Identifier(model.schema, table) for (table,) in cur.fetchall()]


def _schema_exists(cur: psycopg.Cursor[Any], schema: str) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None


def row_count(conn: psycopg.Connection[Any], model: ReadModel) -> int:
    """How many rows the model's own tables hold."""
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
