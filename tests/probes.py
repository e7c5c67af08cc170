"""What a running part of campledger was configured with, read back from the pools and
connections it uses rather than from the settings it was given."""

from __future__ import annotations

from typing import Any, cast

import psycopg

from campledger.api.database.recorder import CampledgerRecorder
from campledger.domain.service.registry import Registry


def recorder_of(registry: Registry) -> CampledgerRecorder:
    return cast(CampledgerRecorder, registry.recorder)


def lock_timeout_of_writes(registry: Registry) -> str:
    """The lock_timeout PostgreSQL applies while the Registry's recorder takes the event
    table's insert lock, taken as its ``insert_events`` takes it."""
    recorder = recorder_of(registry)
    with recorder.datastore.get_connection() as conn:
        recorder._choose_lock(conn)
        with conn.transaction(), conn.cursor() as curs:
            recorder._lock_table(curs)
            curs.execute("SHOW lock_timeout")
            row = curs.fetchone()
    assert row is not None
    return str(row["lock_timeout"])


def connect_timeout_of(conn: psycopg.Connection[Any]) -> str | None:
    """The libpq connect timeout this connection was opened with (None: libpq's default)."""
    return conn.info.get_parameters().get("connect_timeout")
