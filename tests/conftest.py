"""Shared fixtures: a PostgreSQL server per session, a fresh database per test.

With CAMPLEDGER_DATABASE_URL set, tests use that server (and create and drop their own
databases on it); otherwise one embedded server runs for the whole session.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from campledger.api.database import library_env as make_library_env
from campledger.api.database.embedded import embedded_server
from campledger.api.database.keystore import generate_master_key_file, install_key_store

# One master key for the whole run, in this process (every Registry and Projector a test
# builds by hand) and in every process a test starts (servers and commands read the
# setting). A test about master keys sets its own.
_KEYS = Path(tempfile.mkdtemp(prefix="campledger-test-keys-"))
MASTER_KEY_FILE = _KEYS / "master.key"
generate_master_key_file(MASTER_KEY_FILE)
os.environ["CAMPLEDGER_MASTER_KEY_FILE"] = str(MASTER_KEY_FILE)
install_key_store(MASTER_KEY_FILE)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    # Tests take the server from the environment directly: Settings would also read a
    # developer's .env file, which must not decide where tests write.
    external = os.environ.get("CAMPLEDGER_DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's own temporary folder: a second pytest session on the machine
    # resets that folder's permissions, which the server (running as its own user) then
    # cannot write to, and it stops mid-run.
    with (
        tempfile.TemporaryDirectory(prefix="campledger-tests-", ignore_cleanup_errors=True) as tmp,
        embedded_server(Path(tmp)) as url,
    ):
        yield url


@contextmanager
def new_database(server_url: str, prefix: str) -> Iterator[str]:
    """Create an empty database on the server; yield its name; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def database_url(pg_server_url: str) -> Iterator[str]:
    with new_database(pg_server_url, "cl_test") as name:
        params = conninfo_to_dict(pg_server_url)
        params["dbname"] = name
        yield make_conninfo(**{k: str(v) for k, v in params.items()})


@pytest.fixture
def library_env(database_url: str) -> dict[str, str]:
    return make_library_env(database_url)
