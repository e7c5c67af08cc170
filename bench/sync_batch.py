"""Offline sync throughput: a device's queue of 1,000 commands in one request.

Through the ASGI app (fastapi TestClient, no projector, so only the write path is timed)
on a fresh database, interleaved round by round in the same run:

- ``baseline``: POST /arrivals/batch with the same number of arrivals: one command, one
  transaction; the fastest way in today, against which the sync runs are compared.
- ``sync``: POST /sync with as many ``register_arrival`` items: each item its own command
  (authorised, idempotency-checked, claims checked), the applied ones saved together.
- ``sync atomic``: the same with ``"atomic": true``: all or nothing.
- ``sync replay``: the atomic batch sent again: every item comes back already applied.
- ``sync mixed``: half registrations, each followed by a hold of the same person.

Prints commands/s and the ratio to the baseline: machines are noisy, the ratio is what to
compare across runs.

Each request starts with the garbage of the one before collected, outside the timing
(``--no-settle`` to leave it): a sync batch leaves tens of thousands of objects behind, and
the full collection they bring about otherwise lands in whichever request comes next, the
baseline's included, which then looks slower than it is (and sync's ratio better).

    python -m bench.sync_batch [--rounds 3] [--size 1000] [--no-settle]
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import typer
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from bench.support import fresh_database, library_env_for
from campledger.api.composition import Backend
from campledger.api.http.app import create_app
from campledger.api.services.auth import create_token
from campledger.api.settings import Settings
from campledger.domain.service.registry import Registry

console = Console()
SITE = "RP-SYNC"
PREFIX = "/api/v1"
# A hold is decided by an authority under an order (docs/custody.md): every way in asks.
HOLD_ORDER = {"authority": "Governor of Ouaddaï", "order_reference": "GOV-OUA-2025-114"}
RUNS = ("baseline", "sync", "sync atomic", "sync replay", "sync mixed")


def arrival(number: str) -> dict[str, Any]:
    return {
        "registration_number": number,
        "given_name": "Amina",
        "family_name": "Haroun",
        "sex": "female",
        "nationality": "SDN",
        "estimated_age": 30,
        "biometric_reference": f"BIO-{number}",
    }


def queue(tag: str, size: int, holds: bool = False) -> list[dict[str, Any]]:
    """A device's queue: registrations (each followed by a hold if asked), a second apart."""
    start = datetime.now(UTC) - timedelta(seconds=size + 60)
    items: list[dict[str, Any]] = []

    def add(kind: str, body: dict[str, Any], **target: str) -> None:
        items.append(
            {
                "idempotency_key": f"{tag}-{len(items)}",
                "occurred_at": (start + timedelta(seconds=len(items))).isoformat(),
                "device_id": "bench-tablet",
                "type": kind,
                "body": body,
                **target,
            }
        )

    for i in range(size // 2 if holds else size):
        person = str(uuid4())
        add("register_arrival", {"site_code": SITE, **arrival(f"{tag}-{i}"), "person_id": person})
        if holds:
            hold = {"reason": "interview", **HOLD_ORDER}
            add("hold_person", hold, person_id=person)
    return items


def main(rounds: int = 3, size: int = 1_000, settle: bool = True) -> None:
    spent = dict.fromkeys(RUNS, 0.0)
    with fresh_database("bench_sync") as url:
        registry = Registry(env=library_env_for(url))
        backend = Backend(Settings(), url, registry)
        with (
            TestClient(create_app(backend, run_projector=False)) as client,
            psycopg.connect(url, autocommit=True) as conn,
        ):
            token = create_token(conn, name="bench", role="admin")
            headers = {"Authorization": f"Bearer {token}"}
            registry.open_site(
                code=SITE, name="Bench", kind="reception", capacity=10_000_000, actor="bench"
            )

            def post(path: str, body: dict[str, Any]) -> Callable[[], float]:
                def timed() -> float:
                    if settle:
                        gc.collect()
                    start = time.perf_counter()
                    response = client.post(PREFIX + path, json=body, headers=headers)
                    took = time.perf_counter() - start
                    assert response.status_code in (200, 201), response.text[:300]
                    if path == "/sync":
                        counts = response.json()["counts"]
                        assert counts["rejected"] == 0, counts
                    return took

                return timed

            for r in range(-1, rounds):  # round -1 warms up and is not counted
                batch = [arrival(f"base-{r}-{i}") for i in range(size)]
                atomic = {"atomic": True, "items": queue(f"atomic-{r}", size)}
                timed = {
                    "baseline": post("/arrivals/batch", {"site_code": SITE, "arrivals": batch}),
                    "sync": post("/sync", {"items": queue(f"sync-{r}", size)}),
                    "sync atomic": post("/sync", atomic),
                    "sync replay": post("/sync", atomic),
                    "sync mixed": post("/sync", {"items": queue(f"mixed-{r}", size, True)}),
                }
                for run in RUNS:
                    took = timed[run]()
                    if r >= 0:
                        spent[run] += took
        registry.close()

    commands = rounds * size
    table = Table(title=f"Offline sync: {rounds} rounds of {size:,} commands")
    for column in ("run", "commands", "seconds", "commands/s", "vs baseline"):
        table.add_column(column, justify="right")
    base_rate = commands / spent["baseline"]
    for run in RUNS:
        rate = commands / spent[run]
        table.add_row(
            run, f"{commands:,}", f"{spent[run]:.2f}", f"{rate:,.0f}", f"{rate / base_rate:.2f}x"
        )
    console.print(table)
    console.print(
        "baseline: POST /arrivals/batch (one command, one transaction); sync: POST /sync, "
        "each item authorised and decided as its own command, all saved in one transaction."
    )


if __name__ == "__main__":
    typer.run(main)
