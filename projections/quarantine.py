"""Events a read model could not apply, set aside so that it goes on with the rest.

One event the projector cannot apply (a value the database cannot store, an event a
newer release wrote, a handler's bug) must not freeze every roster and count for good:
the log is append-only, so the event will be there on every restart. Like Marten's
dead-letter events, the event is recorded against the read model that failed, with what
went wrong — the error's class, SQLSTATE and the code that raised it, never the error's
message, which may quote an event's names or dates — and the model moves past it.

The table lives in the read model's own schema, so a rebuild starts with none and sets
aside again whatever still fails: retrying after a fix is rebuilding that read model.
"""

from __future__ import annotations

import logging
import sysconfig
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Cursor, sql

from campledger.projections.readmodel import Envelope, ReadModel

log = logging.getLogger(__name__)

TABLE = "quarantine"
DDL = (
    "CREATE TABLE IF NOT EXISTS {schema}.quarantine ("
    "position bigint PRIMARY KEY, originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, topic text NOT NULL, error text NOT NULL, "
    "quarantined_at timestamptz NOT NULL DEFAULT clock_timestamp())"
)
_ROOT = Path(__file__).resolve().parent.parent
# Frames of installed packages (the library, psycopg) and the standard library say less
# about the cause than the last frame of campledger's own code.
_NOT_OURS = ("/site-packages/", sysconfig.get_paths()["stdlib"])
_PLUMBING = ("projections/readmodel.py", "projections/batches.py")


@dataclass(frozen=True, slots=True)
class QuarantinedEvent:
    model: str
    position: int
    originator_id: UUID
    topic: str
    error: str
    quarantined_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "read_model": self.model,
            "position": self.position,
            "originator_id": str(self.originator_id),
            "topic": self.topic,
            "error": self.error,
            "quarantined_at": self.quarantined_at.isoformat(),
        }


def describe(error: BaseException) -> str:
    """What went wrong, without anything the event carried.

    Messages are left out on purpose: PostgreSQL's quote the offending value
    ("invalid input syntax …: "<value>"") and a Python ``KeyError`` names its key.
    The class, the SQLSTATE, the table, column or constraint, and the line of our code
    that raised it are enough to find the cause.
    """
    parts = [type(error).__name__]
    if isinstance(error, psycopg.Error):
        if error.sqlstate:
            parts.append(f"SQLSTATE {error.sqlstate}")
        diag = error.diag
        for label, value in (
            ("table", diag.table_name),
            ("column", diag.column_name),
            ("constraint", diag.constraint_name),
        ):
            if value:
                parts.append(f"{label} {value}")
    ours = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not any(marker in frame.filename for marker in _NOT_OURS)
    ]
    # The model's own handler rather than the plumbing that ran its statement.
    handlers = [f for f in ours if not f.filename.endswith(_PLUMBING)]
    if handlers or ours:
        frame = (handlers or ours)[-1]
        path = Path(frame.filename)
        where = path.relative_to(_ROOT) if path.is_relative_to(_ROOT) else path.name
        parts.append(f"at {where}:{frame.lineno} in {frame.name}")
    return "; ".join(parts)


def record(cur: Cursor[Any], model: ReadModel, envelope: Envelope, error: str) -> None:
    model.run(
        cur,
        "INSERT INTO {schema}.quarantine "
        "(position, originator_id, originator_version, topic, error) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (position) DO NOTHING",
        (envelope.position, envelope.originator_id, envelope.originator_version,
         envelope.topic, error),
    )  # fmt: skip


def quarantined(conn: psycopg.Connection[Any], models: list[ReadModel]) -> list[QuarantinedEvent]:
    """Every event set aside by these read models, in log order (models not set up have none)."""
    found: list[QuarantinedEvent] = []
    for model in models:
        exists = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            (f'"{model.schema}".{TABLE}',),
        ).fetchone()
        if not (exists and exists[0]):
            continue
        rows = conn.execute(
            sql.SQL(
                "SELECT position, originator_id, topic, error, quarantined_at "
                "FROM {}.quarantine ORDER BY position"
            ).format(sql.Identifier(model.schema))
        ).fetchall()
        found.extend(QuarantinedEvent(model.name, *row) for row in rows)
    found.sort(key=lambda q: (q.position, q.model))
    return found


def set_aside(cur: psycopg.Cursor[Any], model: ReadModel, envelope: Envelope, error: str) -> None:
    """Quarantine one event for one model, and say so in the log."""
    # Positions and classes only: the event itself carries names and dates of birth.
    log.error(
        "read model %s could not apply the event at position %d (%s): set aside; "
        "see `campledger quarantine list`", model.name, envelope.position, error,
    )  # fmt: skip
    record(cur, model, envelope, error)
