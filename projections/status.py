"""Where the read side stands: the log's head, each read model's checkpoint, lag and
events set aside, and whether a live projector follows the log.

One report for the operator's ``campledger status`` and for ``/health``, read without
creating anything (a read model not set up yet says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from campledger.projections import quarantine
from campledger.projections.engine import projector_running
from campledger.projections.event_log import APPLICATION_NAME, head_position
from campledger.projections.readmodel import ReadModel


def read_status(conn: psycopg.Connection[Any], models: Sequence[ReadModel]) -> dict[str, Any]:
    """Head, each model's checkpoint, lag and positions set aside, and whether a live
    projector runs; ``status`` is "degraded" when any event is set aside."""
    head = head_position(conn)
    set_aside = quarantine.quarantined(conn, list(models))
    found: list[dict[str, Any]] = []
    for model in models:
        table = f'"{model.schema}".tracking'
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        if not (row and row[0]):
            found.append({"name": model.name, "checkpoint": None, "lag": None, "set_up": False})
            continue
        tracked = conn.execute(
            sql.SQL("SELECT notification_id FROM {}.tracking WHERE application_name = %s").format(
                sql.Identifier(model.schema)
            ),
            (APPLICATION_NAME,),
        ).fetchone()
        checkpoint = int(tracked[0]) if tracked else 0
        found.append(
            {
                "name": model.name,
                "checkpoint": checkpoint,
                "lag": head - checkpoint,
                "set_up": True,
                "quarantined": [q.position for q in set_aside if q.model == model.name],
            }
        )
    return {
        "head": head,
        "status": "degraded" if set_aside else "ok",
        "projector_running": projector_running(conn),
        "models": found,
    }
