"""Where benchmarks get a database: the embedded server, or CAMPLEDGER_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from campledger.api.database import database, library_env
from campledger.api.settings import Settings


def library_env_for(url: str) -> dict[str, str]:
    return library_env(url)


@contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """A new, empty database for one benchmark run, dropped afterwards."""
    with database(Settings()) as server_url:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
        try:
            yield url
        finally:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
