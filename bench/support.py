"""Where benchmarks get a database: the embedded server, or CAMPLEDGER_DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import psycopg
from psycopg import sql

from campledger.api.database import database, library_env
from campledger.api.database.keystore import (
    MASTER_KEY_FILE_ENV,
    install_key_store,
    master_key_file,
)
from campledger.api.settings import Settings

# Benchmarks build Registries and Projectors by hand: they use the operation's master key
# (the embedded default's, made on first use), as campledger itself would. A rebuild's
# helper processes install it the same way (``KEY_STORE_SETUP``).
KEY_STORE_SETUP = partial(install_key_store, master_key_file(Settings()))
KEY_STORE_SETUP()


def library_env_for(url: str) -> dict[str, str]:
    return library_env(url)


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a ``campledger serve`` a benchmark starts on ``database_url``:
    a server given a database URL needs its master key named."""
    key_file = str(master_key_file(Settings()))
    return {**os.environ, "CAMPLEDGER_DATABASE_URL": database_url, MASTER_KEY_FILE_ENV: key_file}


def worker_env_for(url: str) -> dict[str, str]:
    """The environment of an import's worker processes: they install the key store too."""
    return {**library_env(url), MASTER_KEY_FILE_ENV: str(master_key_file(Settings()))}


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
