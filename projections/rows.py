"""Reading the read models: every query answers in rows as dicts, keyed by column."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.abc import Params, QueryNoTemplate
from psycopg.rows import dict_row


def rows_of(
    conn: psycopg.Connection[Any], query: QueryNoTemplate, params: Params | None = None
) -> list[dict[str, Any]]:
    """Every row the query finds."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def row_of(
    conn: psycopg.Connection[Any], query: QueryNoTemplate, params: Params | None = None
) -> dict[str, Any] | None:
    """The first row the query finds, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()
