"""The gazetteer's table: the admin areas of the COD files loaded, by p-code.

Created by the first ``campledger gazetteer load`` (or ``db secure``, which lets the
application role read it). What a file holds and what the check refuses is
``api/services/gazetteer.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from campledger.api.database.tables import create_tables

TABLE = "gazetteer"

DDL = (
    "CREATE TABLE IF NOT EXISTS gazetteer ("
    "pcode text PRIMARY KEY, "
    # The country prefix the p-code starts with: a load replaces one country's areas.
    "country text NOT NULL, "
    "level smallint NOT NULL CHECK (level IN (1, 2)), "
    "parent text, "
    "name text NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS gazetteer_country ON gazetteer (country)",
)


@dataclass(frozen=True)
class Area:
    pcode: str
    country: str
    level: int
    parent: str | None
    name: str


def create_gazetteer(conn: psycopg.Connection[Any]) -> None:
    create_tables(conn, TABLE, DDL)


def replace_countries(conn: psycopg.Connection[Any], areas: Iterable[Area]) -> int:
    """Replace every area of the countries ``areas`` cover with them, in one transaction;
    the number of areas stored."""
    rows = [(a.pcode, a.country, a.level, a.parent, a.name) for a in areas]
    create_gazetteer(conn)
    with conn.transaction():
        countries = sorted({row[1] for row in rows})
        conn.execute("DELETE FROM gazetteer WHERE country = ANY(%s)", (countries,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO gazetteer (pcode, country, level, parent, name) "
                "VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
    return len(rows)


def has_country(conn: psycopg.Connection[Any], country: str) -> bool:
    """Whether a gazetteer of this country is loaded (none is, before the table exists)."""
    found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    if not (found and found[0]):
        return False
    row = conn.execute("SELECT 1 FROM gazetteer WHERE country = %s LIMIT 1", (country,)).fetchone()
    return row is not None


def area(conn: psycopg.Connection[Any], pcode: str) -> Area | None:
    row = conn.execute(
        "SELECT pcode, country, level, parent, name FROM gazetteer WHERE pcode = %s", (pcode,)
    ).fetchone()
    return None if row is None else Area(*row)
