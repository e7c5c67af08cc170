"""A flood of reads waiting for positions the read models have not reached cannot starve
the server: waiting holds no pooled connection, waiters are capped per token and overall,
health answers at once, and ordinary reads go on.

The server runs without its projector, so every wait is a real one; a projector started
in the middle of the flood releases the waiters through its notification.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from campledger.projections.engine import PROJECTOR_LOCK, projector_running
from tests.reliability.support import (
    CliProcess,
    Figures,
    Server,
    arrival,
    log_head,
    make_token,
    problem_type,
    send,
)

FLOOD = 200
TOKENS = 10  # 20 requests each: more than a token may have waiting
WAITERS_PER_TOKEN = 8  # the default of CAMPLEDGER_WAIT_FOR_MAX_PER_TOKEN
HEALTH_WITHIN = 0.1


@pytest.fixture
def quiet_server(database_url: str, tmp_path: Path) -> Any:
    found = Server(database_url, tmp_path / "serve", projector=False)
    found.start()
    try:
        yield found
    finally:
        found.stop()


def wait_until_connected(conn: psycopg.Connection[Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not projector_running(conn):
        assert time.monotonic() < deadline, "campledger project did not connect"
        time.sleep(0.05)


def wait_until_waiting(probe: httpx.Client, count: int, timeout: float = 4.0) -> None:
    deadline = time.monotonic() + timeout
    while probe.get("/health").json().get("waiting_reads") != count:
        assert time.monotonic() < deadline, "the flood's reads did not all start waiting"
        time.sleep(0.02)


def test_a_flood_of_waiting_reads_leaves_health_and_ordinary_reads_answering(
    quiet_server: Server, database_url: str, tmp_path: Path, figures: Figures
) -> None:
    admin = make_token(database_url)
    with quiet_server.client(admin) as http:
        opened = http.post(
            "/sites",
            json={"code": "RC-1", "name": "Reception", "kind": "reception", "capacity": 1000},
        )
        assert opened.status_code == 201, opened.text
        at = datetime.now(UTC) - timedelta(hours=1)
        for _ in range(3):
            assert send(http, "register_arrival", site_code="RC-1", arrival=arrival(at)).accepted
    with psycopg.connect(database_url, autocommit=True) as conn:
        head = log_head(conn)

    # A position beyond the head is the client's mistake: refused at once, naming the head.
    with quiet_server.client(admin) as http:
        started = time.perf_counter()
        beyond = http.get("/sites", params={"wait_for": head + 1000})
        assert beyond.status_code == 422 and beyond.json()["head"] == head
        assert problem_type(beyond).endswith("/position-beyond-head")
        assert time.perf_counter() - started < 1.0

    tokens = [make_token(database_url, "registrar") for _ in range(TOKENS)]

    async def flood() -> list[tuple[int, str]]:
        """All the waiting reads at once, from one thread: threads would take seconds to
        start on a busy machine, longer than a read may wait."""
        clients = [
            httpx.AsyncClient(
                base_url=quiet_server.base_url + "/api/v1",
                headers={"Authorization": f"Bearer {token.secret}"},
                timeout=30,
                limits=httpx.Limits(max_connections=FLOOD),
            )
            for token in tokens
        ]
        try:
            responses = await asyncio.gather(
                *(
                    clients[i % TOKENS].get("/sites", params={"wait_for": head})
                    for i in range(FLOOD)
                )
            )
        finally:
            for client in clients:
                await client.aclose()
        return [(r.status_code, problem_type(r)) for r in responses]

    with httpx.Client(base_url=quiet_server.base_url, timeout=5) as probe:
        # No projector is running: reported, and so not "ok".
        full = probe.get("/health")
        assert full.status_code == 503 and full.json()["status"] == "degraded"
        assert full.json()["projector_running"] is False

    # A projector that starts but cannot apply a batch until the test lets it: the
    # waiters wait for real, and its first notification is what releases them.
    holder = psycopg.connect(database_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (PROJECTOR_LOCK,))
    projector = CliProcess(["project"], database_url, tmp_path / "project")
    projector.start()
    health_times: list[float] = []
    readiness: list[int] = []
    ordinary: list[int] = []
    try:
        wait_until_connected(holder)
        with ThreadPoolExecutor(1) as pool:
            flooding = pool.submit(asyncio.run, flood())
            with httpx.Client(base_url=quiet_server.base_url, timeout=5) as probe:
                wait_until_waiting(probe, TOKENS * WAITERS_PER_TOKEN)
                for _ in range(10):
                    for path in ("/health/ready", "/health"):
                        started = time.perf_counter()
                        answer = probe.get(path)
                        health_times.append(time.perf_counter() - started)
                        readiness.append(answer.status_code)
                    ordinary.append(
                        probe.get(
                            "/api/v1/sites", headers={"Authorization": f"Bearer {admin.secret}"}
                        ).status_code
                    )
            holder.execute("SELECT pg_advisory_unlock(%s)", (PROJECTOR_LOCK,))
            answers = flooding.result(timeout=30)
    finally:
        holder.close()
        projector.stop()

    statuses = [status for status, _ in answers]
    waited = statuses.count(200)
    refused = [kind for status, kind in answers if status == 429]
    figures.record(
        "wait_for flood",
        requests=FLOOD,
        waited_then_served=waited,
        refused_429=len(refused),
        slowest_health_ms=round(max(health_times) * 1000, 1),
    )
    # Ready, and healthy but for a lag: the projector runs, held back by the test.
    assert readiness == [200] * 20 and ordinary == [200] * 10
    assert max(health_times) < HEALTH_WITHIN, health_times
    # Each token may have 8 reads waiting: the rest of its 20 were refused at once.
    others = [a for a in answers if a[0] not in (200, 429)]
    assert (
        waited == TOKENS * WAITERS_PER_TOKEN and len(refused) == FLOOD - TOKENS * WAITERS_PER_TOKEN
    ), others
    assert all(kind.endswith("/too-many-waiters") for kind in refused)
