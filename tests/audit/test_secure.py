"""`db secure`: the application role appends to the log and reads it, and nothing more.

Runs on the embedded server and on CAMPLEDGER_DATABASE_URL's server alike (conftest).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from campledger.api.database import library_env as make_library_env
from campledger.api.database.secure import secure_database
from campledger.api.services.access_trail import access_entries, record_access
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.ledger import Ledger
from campledger.projections.verify import verify_log
from tests.probes import lock_timeout_of_writes, recorder_of
from tests.projections.lifecycle import NOW, arrival, full_lifecycle, open_sites, register

PASSWORD = "s3cret-for-tests"


@pytest.fixture
def app_role(database_url: str, pg_server_url: str, library_env: dict[str, str]) -> Iterator[str]:
    """A secured database and the URL of its application role."""
    role = f"cl_app_{uuid.uuid4().hex[:12]}"
    Registry(env=library_env).close()  # the owner creates the tables, as at first start
    with Projector(database_url, [Ledger]) as projector:
        projector.setup()
    with psycopg.connect(database_url, autocommit=True) as conn:
        report = secure_database(conn, role, PASSWORD)
    assert report.created and report.guarded == ["registry_events", "access_trail"]
    params = conninfo_to_dict(database_url)
    params.update(user=role, password=PASSWORD)
    try:
        yield make_conninfo(**{k: str(v) for k, v in params.items()})
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(
                sql.Identifier(str(conninfo_to_dict(database_url)["dbname"])), sql.Identifier(role)
            ))  # fmt: skip
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def role_env(url: str) -> dict[str, str]:
    # The role has no CREATE on the public schema: the tables exist already.
    return {**make_library_env(url), "CREATE_TABLE": "false"}


def test_the_app_role_records_through_the_registry(app_role: str) -> None:
    registry = Registry(env=role_env(app_role), clock=lambda: NOW)
    try:
        full_lifecycle(registry)  # claims, released claims, idempotency, transfers, merges
        assert registry.get_site("RC-1").name == "Reception 1"
    finally:
        registry.close()
    with Projector(app_role, [Ledger]) as projector:
        projector.catch_up()
        projector.rebuild()  # the role owns the read-model schemas
    assert verify_log(app_role).ok


def test_the_app_role_waits_for_the_insert_lock_no_longer_than_the_lock_timeout(
    app_role: str,
) -> None:
    # It takes the lock through the owner's function, not LOCK TABLE: the timeout must come too.
    registry = Registry(env={**role_env(app_role), "POSTGRES_LOCK_TIMEOUT": "17"})
    try:
        assert lock_timeout_of_writes(registry) == "17s"
        assert any(
            "registry_events_lock" in str(s) for s in recorder_of(registry).lock_table_statements
        )
    finally:
        registry.close()


def test_the_app_role_cannot_update_delete_or_truncate_events(app_role: str) -> None:
    registry = Registry(env=role_env(app_role), clock=lambda: NOW)
    try:
        open_sites(registry)
        register(registry, "RC-1", arrival("R-001"))
    finally:
        registry.close()
    with psycopg.connect(app_role, autocommit=True) as conn:
        for statement in (
            "UPDATE registry_events SET state = state || 'x'::bytea",
            "DELETE FROM registry_events",
            "TRUNCATE registry_events",
            "DROP TRIGGER registry_events_append_only ON registry_events",
            "ALTER TABLE registry_events DISABLE TRIGGER ALL",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        count = conn.execute("SELECT count(*) FROM registry_events").fetchone()
        assert count is not None and count[0] == 3


def test_even_the_owner_cannot_update_or_delete_events(app_role: str, database_url: str) -> None:
    registry = Registry(env=role_env(app_role), clock=lambda: NOW)
    try:
        open_sites(registry)
    finally:
        registry.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in (
            "UPDATE registry_events SET originator_version = originator_version",
            "DELETE FROM registry_events WHERE false",
            "TRUNCATE registry_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)


def test_access_trail_is_append_only_and_queryable(app_role: str) -> None:
    person = uuid.uuid4()
    with psycopg.connect(app_role, autocommit=True) as conn:
        start = datetime.now(UTC) - timedelta(seconds=1)
        first = record_access(conn, "officer-1", person, "GET /persons/{id}")
        record_access(conn, "auditor-2", person, "campledger history")
        record_access(conn, "officer-1", uuid.uuid4(), "GET /persons/{id}")
        assert [e.actor for e in access_entries(conn, person_id=person)] == [
            "officer-1", "auditor-2",
        ]  # fmt: skip
        assert len(access_entries(conn, actor="officer-1")) == 2
        assert len(access_entries(conn, from_=start, after=first)) == 2
        assert access_entries(conn, to=start) == []
        for statement in ("UPDATE access_trail SET actor = 'x'", "DELETE FROM access_trail"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_securing_twice_keeps_the_role_and_narrows_grants(app_role: str, database_url: str) -> None:
    role = str(conninfo_to_dict(app_role)["user"])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT UPDATE ON registry_events TO {}").format(sql.Identifier(role)))
        report = secure_database(conn, role, None)
        assert not report.created
        rows: list[Any] = conn.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND table_name = 'registry_events' ORDER BY 1",
            (role,),
        ).fetchall()
    assert [r[0] for r in rows] == ["INSERT", "SELECT"]
    # The password kept working: it was not given again.
    psycopg.connect(app_role).close()
