"""Creating our own tables (beside the event store's) the first time they are needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg


def create_tables(conn: psycopg.Connection[Any], last: str, ddl: Sequence[str]) -> None:
    """Run ``ddl`` in one transaction unless ``last``, the table it creates last, exists.

    The check comes first because the application role may lack CREATE: at startup it must
    find the tables made by an owner, not try to make them again."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (last,)).fetchone()
    if exists and exists[0]:
        return
    with conn.transaction():
        for statement in ddl:
            conn.execute(statement)
