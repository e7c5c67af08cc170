"""Batch registration throughput against the plain eventsourcing library.

Registers 100 batches of 500 arrivals through the Registry and, interleaved
batch by batch in the same run, saves 100 batches of 500 minimal aggregates
with a plain ``Application.save(*aggregates)`` (the library's own recorder and
JSON transcoder). Prints events/s for both and their ratio: machines are noisy,
the ratio is what to compare across runs.

    python -m bench.batch_registration [--batches 100] [--size 500]
"""

from __future__ import annotations

import time
from datetime import date
from uuid import uuid4

import typer
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from rich.console import Console
from rich.table import Table

from bench.support import fresh_database, library_env_for
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry

console = Console()


class Minimal(Aggregate):
    """The smallest useful aggregate: what the library baseline saves."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name


class Baseline(Application):
    name = "Baseline"


def arrivals(batch: int, size: int) -> list[Arrival]:
    return [
        Arrival(
            registration_number=f"B{batch:04d}-{i:04d}",
            given_name="Amina",
            family_name="Haroun",
            sex="female" if i % 2 else "male",
            nationality="SDN",
            date_of_birth=date(1990, 1, 1 + i % 28),
            household_id=f"H{batch:04d}-{i // 5:03d}",
            relationship="child" if i % 5 else "focal_point",
            biometric_reference=f"BIO-{batch:04d}-{i:04d}",
            specific_needs=("SM-OT",) if i % 17 == 0 else (),
        )
        for i in range(size)
    ]


def open_baseline(env: dict[str, str]) -> Baseline:
    """The library baseline on the same database, with the library's own recorder."""
    return Baseline(env={**env, "APPLICATION_RECORDER_TOPIC": ""})


def save_baseline_batch(baseline: Baseline, size: int) -> float:
    """Seconds to create and save ``size`` minimal aggregates in one ``Application.save``."""
    start = time.perf_counter()
    baseline.save(*[Minimal(name=f"p{i}") for i in range(size)])
    return time.perf_counter() - start


def main(batches: int = 100, size: int = 500) -> None:
    with fresh_database("bench_batch") as url:
        env = library_env_for(url)
        registry = Registry(env=env)
        baseline = open_baseline(env)
        registry.open_site(
            code="RP-BENCH",
            name="Bench reception",
            kind="reception",
            capacity=1_000_000,
            actor="bench",
        )
        payloads = [arrivals(b, size) for b in range(batches + 1)]
        # Warm up both (connections, prepared statements, imports).
        registry.register_arrivals(site_code="RP-BENCH", arrivals=payloads[-1], actor="bench")
        save_baseline_batch(baseline, size)

        spent = {"baseline": 0.0, "campledger": 0.0}
        for b in range(batches):
            spent["baseline"] += save_baseline_batch(baseline, size)

            start = time.perf_counter()
            registry.register_arrivals(
                site_code="RP-BENCH",
                arrivals=payloads[b],
                actor="bench",
                idempotency_key=f"bench-{b}-{uuid4()}",
            )
            spent["campledger"] += time.perf_counter() - start
        registry.close()
        baseline.close()

    events = batches * size
    table = Table(title=f"Batch registration: {batches} batches of {size}")
    for column in ("run", "events", "seconds", "events/s", "vs baseline"):
        table.add_column(column, justify="right")
    base_rate = events / spent["baseline"]
    for run in ("baseline", "campledger"):
        rate = events / spent[run]
        table.add_row(
            run, f"{events:,}", f"{spent[run]:.2f}", f"{rate:,.0f}", f"{rate / base_rate:.2f}x"
        )
    console.print(table)
    console.print(
        "baseline: eventsourcing Application.save(*aggregates), minimal aggregate, library "
        "recorder and JSON transcoder; campledger: Registry.register_arrivals (validation, "
        "unique claims, idempotency record, orjson mapper, one-statement insert)."
    )


if __name__ == "__main__":
    typer.run(main)
