"""What /health reports: whether this process can serve, and whether the read models keep up.

Three questions with three answers, as load balancers and monitors ask them:
- alive: the process answers at all (no database needed);
- ready: it can serve requests now; "busy" (every pooled connection in use, the database
  answering) is told apart from "unavailable" (the database does not answer);
- healthy: ready, and the live projector is running with no event set aside.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import psycopg_pool

from campledger.projections.catalog import READ_MODELS
from campledger.projections.status import read_status

# A ready pool hands out a connection at once; waiting longer than this means it is busy.
POOL_WAIT_SECONDS = 0.5
# A health flood must not become a connection flood: a direct check of the database (made
# only when the pool is busy) is shared by every probe within this many seconds.
DIRECT_CHECK_SECONDS = 1.0


@dataclass
class Report:
    status: str  # ok, degraded, busy, unavailable
    database: bool
    pool: dict[str, int]
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    head: int | None = None
    lag: dict[str, int] | None = None
    quarantined: dict[str, list[int]] | None = None
    projector_running: bool | None = None
    waiting_reads: int | None = None

    @property
    def ready(self) -> bool:
        return self.status in ("ok", "degraded")

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


def pool_figures(pool: psycopg_pool.ConnectionPool[Any]) -> dict[str, int]:
    stats = pool.get_stats()
    return {
        "size": stats.get("pool_size", 0),
        "available": stats.get("pool_available", 0),
        "waiting": stats.get("requests_waiting", 0),
    }


def check(pool: psycopg_pool.ConnectionPool[Any], database_url: str, *, full: bool) -> Report:
    """Readiness (``full=False``), or readiness and the read side's state (``full=True``)."""
    try:
        with pool.connection(timeout=POOL_WAIT_SECONDS) as conn:
            conn.execute("SELECT 1")
            report = Report("ok", True, pool_figures(pool))
            if full:
                _read_side(conn, report)
            return report
    except psycopg_pool.PoolTimeout:
        answers = _direct.answers(database_url)
        return Report("busy" if answers else "unavailable", answers, pool_figures(pool))
    except (psycopg.OperationalError, psycopg.InterfaceError):
        return Report("unavailable", False, pool_figures(pool))


def _read_side(conn: psycopg.Connection[Any], report: Report) -> None:
    status = read_status(conn, [cls() for cls in READ_MODELS])
    report.head = status["head"]
    report.lag = {m["name"]: m["lag"] for m in status["models"] if m["set_up"]}
    report.quarantined = {
        m["name"]: m["quarantined"] for m in status["models"] if m.get("quarantined")
    }
    report.projector_running = status["projector_running"]
    set_up = all(m["set_up"] for m in status["models"])
    if status["status"] != "ok" or not report.projector_running or not set_up:
        report.status = "degraded"


class _DirectCheck:
    """Whether the database answers a connection of its own, at most once a second."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked = 0.0
        self._answered = False

    def answers(self, database_url: str) -> bool:
        with self._lock:
            if time.monotonic() - self._checked > DIRECT_CHECK_SECONDS:
                self._answered = _connects(database_url)
                self._checked = time.monotonic()
            return self._answered


def _connects(database_url: str) -> bool:
    try:
        with psycopg.connect(database_url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


_direct = _DirectCheck()
