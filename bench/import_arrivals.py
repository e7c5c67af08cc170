"""Bulk import throughput: a 100,000-row arrivals CSV, against batch registration.

Generates the file, then in the same run and on the same server, each in a fresh
database:

- baseline: the plain eventsourcing library saving minimal aggregates in batches of
  1,000 (``Application.save``), as in ``bench.batch_registration``;
- register_arrivals: the same number of arrivals, already built as ``Arrival`` objects,
  through ``Registry.register_arrivals`` in batches of 1,000, one process;
- import: ``campledger import arrivals`` end to end (read the file, check every row,
  look up every registration number and biometric reference, register in batches),
  with one process and with worker processes.

Prints arrivals/s for each, with ratios to the library baseline and to
register_arrivals; the target for the import is 30,000 arrivals/s (issue 18's row).

    python -m bench.import_arrivals [--rows 100000] [--workers 2]
"""

from __future__ import annotations

import csv
import io
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import typer
from psycopg import sql
from rich.console import Console
from rich.table import Table

from bench.batch_registration import Baseline, Minimal
from bench.cpu import CpuMeter
from bench.support import worker_env_for
from campledger.api.database import database, library_env
from campledger.api.services.import_checked import to_arrival
from campledger.api.services.import_file import read_arrivals
from campledger.api.services.import_rows import COLUMNS
from campledger.api.services.import_runner import import_arrivals
from campledger.api.settings import Settings
from campledger.domain.commands import MAX_BATCH
from campledger.domain.service.registry import Registry

console = Console(width=120)
TARGET = 30_000
SITE = "RP-IMPORT"


def generate(rows: int, seed: int = 7) -> bytes:
    """A realistic registration list: mixed ages, households of five, a few needs."""
    rnd = random.Random(seed)
    buffer = io.StringIO()
    # By column name, the others left empty: the file follows the import's columns.
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    needs = ("", "", "", "", "SM-OT", "WR-LC", "DS;SM-MN")
    for i in range(rows):
        known_birth = i % 3 != 0
        writer.writerow(
            {
                "registration_number": f"IMP-{i:07d}",
                "given_name": rnd.choice(
                    ("Amina", "Idriss", "Fatime", "Moussa", "Achta", "Abakar")
                ),
                "family_name": rnd.choice(("Haroun", "Mahamat", "Ousmane", "Adoum")),
                "sex": rnd.choice(("female", "male")),
                "nationality": rnd.choice(("SDN", "SDN", "SDN", "TCD", "CAF")),
                "date_of_birth": (
                    f"{rnd.randint(1945, 2024)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
                    if known_birth
                    else ""
                ),
                "estimated_age": "" if known_birth else str(rnd.randint(0, 80)),
                "household_id": f"H-{i // 5:06d}",
                "relationship": "focal_point" if i % 5 == 0 else "child",
                "biometric_reference": f"BIO-{i:07d}" if i % 2 else "",
                "specific_needs": rnd.choice(needs),
            }
        )
    return buffer.getvalue().encode()


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    checked_at: float | None = None


@contextmanager
def fresh(server_url: str) -> Iterator[tuple[str, CpuMeter]]:
    """A new database, and a meter of the CPU that the run on it costs."""
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(server_url, dbname=name), CpuMeter(name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def opened(url: str) -> Registry:
    registry = Registry(env=library_env(url))
    registry.open_site(
        code=SITE, name="Bench reception", kind="reception", capacity=10_000_000, actor="bench"
    )
    return registry


def run_baseline(server_url: str, rows: int) -> Run:
    with fresh(server_url) as (url, meter):
        app = Baseline(env={**library_env(url), "APPLICATION_RECORDER_TOPIC": ""})
        app.save(*[Minimal(name="warm") for _ in range(10)])
        with meter:
            start = time.perf_counter()
            for offset in range(0, rows, MAX_BATCH):
                app.save(
                    *[Minimal(name=f"p{i}") for i in range(offset, min(rows, offset + MAX_BATCH))]
                )
            spent = time.perf_counter() - start
        app.close()
    return Run(spent, meter.seconds)


def run_registration(server_url: str, content: bytes) -> Run:
    with fresh(server_url) as (url, meter):
        registry = opened(url)
        checked = read_arrivals(content, now=registry.clock())
        arrivals = [to_arrival(fields) for _, fields in checked.good]
        with meter:
            start = time.perf_counter()
            for offset in range(0, len(arrivals), MAX_BATCH):
                registry.register_arrivals(
                    site_code=SITE, arrivals=arrivals[offset : offset + MAX_BATCH], actor="bench"
                )
            spent = time.perf_counter() - start
        registry.close()
    return Run(spent, meter.seconds)


def run_import(server_url: str, path: Path, workers: int) -> Run:
    with fresh(server_url) as (url, meter):
        registry = opened(url)
        phases: dict[str, float] = {}

        def checked(_: object) -> None:
            phases["checked"] = time.perf_counter() - start

        with meter:
            start = time.perf_counter()
            report = import_arrivals(
                registry,
                path.read_bytes(),
                site_code=SITE,
                actor="bench",
                workers=workers,
                worker_env=worker_env_for(url),
                on_checked=checked,
            )
            spent = time.perf_counter() - start
        registry.close()
    if not report.ok or report.imported != report.rows:
        raise SystemExit(f"the import did not import every row: {report.as_dict()['problems'][:5]}")
    return Run(spent, meter.seconds, phases.get("checked"))


def main(rows: int = 100_000, workers: int = 2) -> None:
    content = generate(rows)
    with tempfile.TemporaryDirectory() as folder, database(Settings()) as server_url:
        path = Path(folder) / "arrivals.csv"
        path.write_bytes(content)
        console.print(f"{rows:,} rows, {len(content) / 1e6:.1f} MB; measuring…")
        runs = {
            "library baseline": run_baseline(server_url, rows),
            "register_arrivals": run_registration(server_url, content),
        }
        for count in sorted({1, workers}):
            label = f"import, {count} process{'es' if count > 1 else ''}"
            runs[label] = run_import(server_url, path, count)

    base = rows / runs["library baseline"].seconds
    registration = rows / runs["register_arrivals"].seconds
    table = Table(title=f"Importing {rows:,} arrivals (batches of {MAX_BATCH:,})")
    table.add_column("run")
    for column in ("seconds", "checked at", "arrivals/s", "× baseline", "× register", "CPU µs/row"):
        table.add_column(column, justify="right")
    for label, run in runs.items():
        rate = rows / run.seconds
        checked = f"{run.checked_at:.2f}" if run.checked_at is not None else ""
        table.add_row(
            label, f"{run.seconds:.2f}", checked, f"{rate:,.0f}", f"{rate / base:.2f}x",
            f"{rate / registration:.2f}x", f"{run.cpu_seconds / rows * 1e6:.0f}",
        )  # fmt: skip
    console.print(table)
    best = max(rows / r.seconds for label, r in runs.items() if label.startswith("import"))
    verdict = "[green]met[/]" if best >= TARGET else "[red]not met[/]"
    console.print(
        f"target {TARGET:,} arrivals/s: {verdict} (best import {best:,.0f}/s, {os.cpu_count()} "
        "cores). 'checked at': seconds until every row was checked and looked up; the rest "
        "is registration. 'CPU µs/row': CPU of this process, its workers and the database "
        "backends serving the run, which a busy machine does not inflate as it does seconds."
    )


if __name__ == "__main__":
    typer.run(main)
