"""Ledger verification over a large log, and person-history latency.

Builds a log of ``--events`` realistic stored events: a template operation goes through the
Registry (sites, persons registered in batches, screened, held, released, corrected), then
copies of the template are bulk-inserted with SQL under fresh aggregate ids, so the bytes
are real events and positions are contiguous. The ledger is projected by the real
projector. Then, in the same run:

- ``verify`` (server-side cursor, the server encodes, Python hashes) against the baseline:
  the naive loop over the recorder's ``select_notifications`` pages, encoding in Python;
- ``prove`` (recompute from the events alone);
- person history for ``--persons`` random persons: p50 / p99.

    python -m bench.verify [--events 1000000] [--persons 1000]
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from bench.support import fresh_database, library_env_for
from campledger.domain.history import person_history
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.ledger import GENESIS, Ledger, current_digest, encode, next_link
from campledger.projections.verify import prove_digest, verify_log

console = Console()
T0 = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
ACTOR = "officer-1"


def template(registry: Registry, persons: int) -> list[UUID]:
    """A small operation; about five events per person."""
    registry.open_site(
        code="RC-1", name="Reception", kind="reception", capacity=100_000,
        occurred_at=T0, actor=ACTOR,
    )  # fmt: skip
    ids: list[UUID] = []
    for start in range(0, persons, 1_000):
        batch = [
            Arrival(
                registration_number=f"T-{start + i:06d}",
                given_name="Amina",
                family_name="Haroun",
                sex="female" if i % 2 else "male",
                nationality="SDN",
                estimated_age=20 + i % 50,
                household_id=f"H-{(start + i) // 5:05d}",
                occurred_at=T0 + timedelta(minutes=1),
            )
            for i in range(min(1_000, persons - start))
        ]
        result = registry.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)
        ids += [UUID(p) for p in result.result["person_ids"]]
    for n, person in enumerate(ids):
        when = T0 + timedelta(hours=1)
        registry.record_screening_step(
            person_id=person, step="identity", outcome="cleared", reason="",
            occurred_at=when, actor=ACTOR,
        )  # fmt: skip
        if n % 2 == 0:
            registry.hold_person(
                person_id=person, reason="interview", occurred_at=when, actor=ACTOR
            )
            registry.release_person(
                person_id=person, reason="cleared", occurred_at=when, actor=ACTOR
            )
        registry.correct_detail(
            person_id=person, field="estimated_age", value=33, reason="document seen",
            occurred_at=when, actor=ACTOR,
        )  # fmt: skip
    return ids


def copy_template(url: str, copies: int) -> int:
    """Append ``copies`` of the template's events under fresh ids; returns the log's size."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO registry_events (originator_id, originator_version, topic, state) "
            "SELECT md5(e.originator_id::text || g)::uuid, e.originator_version, e.topic, e.state "
            "FROM generate_series(1, %s) AS g, "
            "(SELECT * FROM registry_events ORDER BY notification_id) AS e "
            "ORDER BY g, e.notification_id",
            (copies,),
        )
        conn.execute("ANALYZE registry_events")
        row = conn.execute("SELECT count(*) FROM registry_events").fetchone()
    return int(row[0]) if row else 0


def naive_verify(registry: Registry, url: str) -> tuple[int, bytes]:
    """The baseline: page through the recorder's notifications, encode and hash in Python."""
    link = GENESIS
    count = 0
    start = 1
    while True:
        page = registry.recorder.select_notifications(start=start, limit=1_000)
        if not page:
            break
        for n in page:
            link = next_link(
                link,
                encode(n.id, UUID(str(n.originator_id)), n.originator_version, n.topic, n.state),
            )
            count += 1
        start = page[-1].id + 1
    return count, link


def main(events: int = 1_000_000, persons: int = 1_000) -> None:
    with fresh_database("bench_verify") as url:
        registry = Registry(env=library_env_for(url), clock=lambda: NOW)
        try:
            started = time.perf_counter()
            ids = template(registry, persons)
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT count(*) FROM registry_events").fetchone()
            size = int(row[0]) if row else 1
            total = copy_template(url, max(0, events // size - 1))
            console.print(
                f"log: {total:,} events ({size:,} through the Registry, the rest copied) "
                f"in {time.perf_counter() - started:.1f} s"
            )
            started = time.perf_counter()
            with Projector(url, [Ledger], batch_size=5_000) as projector:
                projector.catch_up()
            project_s = time.perf_counter() - started

            report = verify_log(url)
            assert report.ok, report
            with psycopg.connect(url) as conn:
                kept = current_digest(conn)
            assert kept is not None
            proof = prove_digest(url, kept.position, kept.hex)
            assert proof.ok, proof
            started = time.perf_counter()
            naive_count, naive_link = naive_verify(registry, url)
            naive_s = time.perf_counter() - started
            assert naive_link == kept.digest and naive_count == report.events

            rng = random.Random(7)
            sample = [rng.choice(ids) for _ in range(persons)]
            for person in sample[:50]:  # warm the pool and the codec's converters
                person_history(registry, person)
            timings = []
            for person in sample:
                t = time.perf_counter()
                person_history(registry, person)
                timings.append((time.perf_counter() - t) * 1000)
        finally:
            registry.close()

    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    table = Table(title=f"Ledger and history over {total:,} events")
    for column in ("measure", "result", "target"):
        table.add_column(column)
    table.add_row("project ledger", f"{total / project_s:,.0f} events/s ({project_s:.1f} s)", "")
    table.add_row(
        "verify (server cursor)",
        f"{report.events_per_second:,.0f} events/s ({report.seconds:.1f} s)",
        "≥ 200,000 events/s",
    )
    prove_rate = proof.events / proof.seconds
    table.add_row("prove kept digest", f"{prove_rate:,.0f} events/s ({proof.seconds:.1f} s)", "")
    table.add_row(
        "baseline: select_notifications loop",
        f"{naive_count / naive_s:,.0f} events/s ({naive_s:.1f} s)",
        f"verify is {naive_s / report.seconds:.1f}× faster",
    )
    table.add_row("person history p50", f"{p50:.2f} ms", "")
    table.add_row("person history p99", f"{p99:.2f} ms", "< 10 ms")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
