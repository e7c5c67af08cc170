"""Batch registration throughput: with per-person encryption, without it, and the library.

Three runs on one database, interleaved batch by batch (the order reversed every other
batch, so that whatever else the machine does falls on all of them):

- campledger: 100 batches of 500 arrivals through ``Registry.register_arrivals``, each
  person's personal fields encrypted under a key of their own, the keys written with the
  events and unique claims stored as keyed hashes;
- campledger without encryption: the same Registry and payloads with a mapper that seals
  nothing and a recorder with no key ring (``bench.unencrypted``): the issue's target is
  that encryption keeps at least 0.85x of its rate;
- library: 100 batches of 500 minimal aggregates saved with a plain
  ``Application.save(*aggregates)`` (the library's own recorder and JSON transcoder).

Prints registrations/s for each and the ratios: machines are noisy, the ratios are what
to compare across runs.

    python -m bench.batch_registration [--batches 100] [--size 500]
"""

from __future__ import annotations

import gc
import time
from datetime import date
from uuid import uuid4

import typer
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from rich.console import Console
from rich.table import Table

from bench.support import fresh_database, library_env_for
from bench.unencrypted import UnencryptedRegistry
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry

console = Console(width=120)  # the tables are wider than a default 80 columns
# The target: registering with encryption keeps this share of the rate without it.
TARGET = 0.85
ENCRYPTED, UNENCRYPTED, LIBRARY = "campledger", "campledger, no encryption", "library"


class Minimal(Aggregate):
    """The smallest useful aggregate: what the library baseline saves."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name


class Baseline(Application):
    name = "Baseline"


def arrivals(batch: int, size: int, prefix: str = "B") -> list[Arrival]:
    # Each Registry registers its own people (the prefix), with numbers of the same length.
    return [
        Arrival(
            registration_number=f"{prefix}{batch:04d}-{i:04d}",
            given_name="Amina",
            family_name="Haroun",
            sex="female" if i % 2 else "male",
            nationality="SDN",
            date_of_birth=date(1990, 1, 1 + i % 28),
            household_id=f"{prefix}H{batch:04d}-{i // 5:03d}",
            relationship="child" if i % 5 else "focal_point",
            biometric_reference=f"BIO-{prefix}{batch:04d}-{i:04d}",
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


def register_batch(registry: Registry, site: str, payload: list[Arrival], key: str) -> float:
    """Seconds to register one batch of arrivals in one command."""
    start = time.perf_counter()
    registry.register_arrivals(
        site_code=site, arrivals=payload, actor="bench", idempotency_key=f"{key}-{uuid4()}"
    )
    return time.perf_counter() - start


def main(batches: int = 100, size: int = 500) -> None:
    with fresh_database("bench_batch") as url:
        env = library_env_for(url)
        # Both Registries write to the same log, each to a site of its own: the tables and
        # their indexes grow alike under both.
        registries: dict[str, tuple[Registry, str, str]] = {
            ENCRYPTED: (Registry(env=env), "RP-SEALED", "E"),
            UNENCRYPTED: (UnencryptedRegistry(env=env), "RP-PLAIN", "P"),
        }
        baseline = open_baseline(env)
        payloads: dict[str, list[list[Arrival]]] = {}
        for run, (registry, site, prefix) in registries.items():
            registry.open_site(
                code=site, name=f"Bench reception {prefix}", kind="reception",
                capacity=1_000_000, actor="bench",
            )  # fmt: skip
            payloads[run] = [arrivals(b, size, prefix) for b in range(batches + 1)]
            # Warm up (connections, prepared statements, imports, the key store).
            register_batch(registry, site, payloads[run][-1], f"warm-{prefix}")
        save_baseline_batch(baseline, size)
        # The payloads of every batch are made up front, which no server does: out of the
        # collector's way, so that collections scan what a server's would.
        gc.collect()
        gc.freeze()

        spent = dict.fromkeys((ENCRYPTED, UNENCRYPTED, LIBRARY), 0.0)
        order = list(spent)
        for b in range(batches):
            for run in order if b % 2 == 0 else reversed(order):
                if run == LIBRARY:
                    spent[run] += save_baseline_batch(baseline, size)
                else:
                    registry, site, prefix = registries[run]
                    spent[run] += register_batch(registry, site, payloads[run][b], prefix)
        for registry, _, _ in registries.values():
            registry.close()
        baseline.close()

    events = batches * size
    table = Table(title=f"Batch registration: {batches} batches of {size}, interleaved")
    for column in ("run", "registrations", "seconds", "registrations/s", "vs no encryption",
                   "vs library"):  # fmt: skip
        table.add_column(column, justify="left" if column == "run" else "right")
    rate = {run: events / seconds for run, seconds in spent.items()}
    for run in (ENCRYPTED, UNENCRYPTED, LIBRARY):
        table.add_row(
            run, f"{events:,}", f"{spent[run]:.2f}", f"{rate[run]:,.0f}",
            f"{rate[run] / rate[UNENCRYPTED]:.3f}x", f"{rate[run] / rate[LIBRARY]:.2f}x",
        )  # fmt: skip
    console.print(table)
    ratio = rate[ENCRYPTED] / rate[UNENCRYPTED]
    console.print(
        f"encryption keeps {ratio:.3f}x of the rate without it (target >= {TARGET}x): "
        + ("[green]met[/green]" if ratio >= TARGET else "[red]not met[/red]")
    )
    console.print(
        "campledger: Registry.register_arrivals (validation, unique claims as keyed hashes, "
        "idempotency record, orjson mapper with each person's personal fields encrypted "
        "AES-256-GCM under their own key, new keys wrapped and written in the same "
        "one-statement insert); no encryption: the same without sealing, keys or hashing "
        "(bench.unencrypted); library: eventsourcing Application.save(*aggregates), minimal "
        "aggregate, library recorder and JSON transcoder."
    )


if __name__ == "__main__":
    typer.run(main)
