"""The access trail's table: created at startup, made append-only by ``db secure``.

What goes into it and how it is read is ``api/services/access_trail.py``.
"""

from __future__ import annotations

from typing import Any

import psycopg

from campledger.api.database.tables import create_tables

TABLE = "access_trail"

DDL = (
    "CREATE TABLE IF NOT EXISTS access_trail ("
    "id bigserial PRIMARY KEY, "
    # clock_timestamp, not now(): several reads in one transaction keep their own times.
    "accessed_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
    "actor text NOT NULL, person_id uuid NOT NULL, purpose text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS access_trail_person ON access_trail (person_id, id)",
    "CREATE INDEX IF NOT EXISTS access_trail_actor ON access_trail (actor, id)",
    "CREATE INDEX IF NOT EXISTS access_trail_time ON access_trail (accessed_at)",
)


def create_access_trail(conn: psycopg.Connection[Any]) -> None:
    """Create the table if missing (at startup; the application role may lack CREATE)."""
    create_tables(conn, TABLE, DDL)
