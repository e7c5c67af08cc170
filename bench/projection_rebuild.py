"""Rebuild throughput of the read models, against the library's projection runner.

Builds a log of about ``--events`` events through the Registry: truckloads of 500
registrations, and between them what a reception centre records in a day (screening,
holds and releases, corrections, departures, a transfer of two dozen people to a camp
with one missing on arrival). Then, in the same run:

- campledger, every read model: ``Projector.rebuild()`` as ``campledger rebuild`` runs it
  (batches of 2,000 events, one transaction each, statements pipelined);
- campledger, roster only: ``Projector.rebuild(["roster"])``;
- library baseline: eventsourcing's ``ProjectionRunner`` with a ``Projection`` whose view
  (a ``PostgresTrackingRecorder``) applies the very same roster read model, one event per
  transaction with its tracking record, over the first ``--baseline-events`` events.

Prints events, seconds, events/s and the ratio to the baseline. Machines are noisy: the
ratio is what to compare across runs.

    python -m bench.projection_rebuild [--events 200000] [--baseline-events 10000] [--per-model]
"""

from __future__ import annotations

import random
import time
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import typer
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.support import fresh_database, library_env_for
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector, RebuildSummary
from campledger.projections.readmodel import Envelope
from campledger.projections.roster import Roster

console = Console()
ACTOR = "bench"
RECEPTION = "RC-BENCH"
CAMP = "CAMP-BENCH"
TRUCKLOAD = 500

GIVEN = (
    "Fatima", "Amina", "Aisha", "Khadija", "Hawa", "Mariam", "Zainab", "Halima", "Achta",
    "Mohammed", "Ahmed", "Adam", "Abdallah", "Ibrahim", "Ali", "Hassan", "Hussein", "Osman",
    "Yousif", "Ismail", "Omar", "Khalid", "Salih", "Idris", "Musa", "Issa", "Bakhit", "Jamal",
)  # fmt: skip
FAMILY = (
    "Haroun", "Abakar", "Mahamat", "Djibrine", "Tahir", "Nour", "Bashir", "Siddig", "Awad",
    "Babiker", "Dahab", "Kuku", "Arbab", "Mahdi", "Abdelkerim", "Suleiman", "Zakaria", "Hamid",
    "Ishag", "Mustafa", "Tijani", "Hamza", "Yahya", "Mahmoud", "Gamal", "Saleh", "Othman",
)  # fmt: skip


def truckload(number: int) -> list[Arrival]:
    """500 arrivals with names as varied as a caseload's, households of about five."""
    rng = random.Random(number)
    made = []
    for i in range(TRUCKLOAD):
        n = number * TRUCKLOAD + i
        made.append(
            Arrival(
                registration_number=f"B{number:05d}-{i:03d}",
                given_name=rng.choice(GIVEN),
                family_name=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                sex=("female", "male")[i % 2],
                nationality=("SDN", "SSD", "TCD")[n % 3],
                date_of_birth=date(1950 + rng.randrange(70), 1 + n % 12, 1 + n % 28)
                if i % 4 == 0
                else None,
                estimated_age=None if i % 4 == 0 else 1 + rng.randrange(75),
                household_id=f"H{number:05d}-{i // 5:03d}",
                relationship="focal_point" if i % 5 == 0 else "child",
                biometric_reference=f"BIO-{number:05d}-{i:03d}" if i % 3 == 0 else None,
                specific_needs=("SM-OT",) if i % 17 == 0 else (),
            )
        )
    return made


def build_log(registry: Registry, target: int) -> int:
    """Registers truckloads and the day's other commands until the log holds ``target``."""
    registry.open_site(
        code=RECEPTION, name="Bench reception", kind="reception", capacity=10_000_000,
        actor=ACTOR,
    )  # fmt: skip
    registry.open_site(code=CAMP, name="Bench camp", kind="camp", capacity=10_000_000, actor=ACTOR)
    rng = random.Random(1)
    held: list[UUID] = []
    head = 0
    number = 0
    progress = Progress(
        TextColumn("[bold]building the log"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip
    with progress:
        task = progress.add_task("log", total=target)
        while head < target:
            result = registry.register_arrivals(
                site_code=RECEPTION, arrivals=truckload(number), actor=ACTOR
            )
            number += 1
            people = [UUID(p) for p in result.result["person_ids"]]
            picked = rng.sample(people, 42)
            for person in picked[:10]:
                registry.record_screening_step(
                    person_id=person, step="medical", outcome="cleared", actor=ACTOR
                )
            for person in picked[10:12]:
                registry.record_screening_step(
                    person_id=person, step="security", outcome="held", reason="interview",
                    actor=ACTOR,
                )  # fmt: skip
            for person in held:
                registry.release_person(person_id=person, reason="cleared", actor=ACTOR)
            held = picked[10:12]
            for person in picked[12:14]:
                registry.correct_detail(
                    person_id=person, field="specific_needs", value=["DS"],
                    reason="typo", actor=ACTOR,
                )  # fmt: skip
            for person in picked[14:16]:
                registry.record_departure(person_id=person, reason="resettled", actor=ACTOR)
            manifest = picked[16:40]
            transfer = UUID(
                registry.plan_transfer(
                    origin=RECEPTION, destination=CAMP, manifest=manifest, vehicle="truck",
                    actor=ACTOR,
                ).result["transfer_id"]
            )  # fmt: skip
            registry.dispatch_transfer(transfer_id=transfer, actor=ACTOR)
            registry.receive_transfer(
                transfer_id=transfer, site_code=CAMP, persons=manifest[:-1], actor=ACTOR
            )
            head = registry.reconcile_transfer(transfer_id=transfer, actor=ACTOR).position
            progress.update(task, completed=min(head, target))
    return head


# --- the library's way: one event per transaction, through a ProjectionRunner ----------


class BaselineRosterView(PostgresTrackingRecorder):
    """The roster read model as a library materialised view, in a schema of its own."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.roster = Roster(schema="baseline_roster")
        self.sql_create_statements.append(self.roster.q("CREATE SCHEMA IF NOT EXISTS {schema}"))
        self.sql_create_statements.extend(self.roster.q(s) for s in Roster.ddl)

    def apply_with_tracking(self, envelope: Envelope, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self.roster.apply(curs, [envelope])
            self._insert_tracking(curs, tracking)


class BaselineRosterProjection(Projection[BaselineRosterView]):
    name = "baseline_roster"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        envelope = Envelope(
            tracking.notification_id,
            domain_event.originator_id,
            domain_event.originator_version,
            "",
            domain_event,
        )
        self.view.apply_with_tracking(envelope, tracking)


def run_baseline(env: dict[str, str], upto: int) -> tuple[int, float]:
    """Events the library's runner projected, resuming from its tracking record, up to
    position ``upto``, and the seconds it took counted from the first of them (starting
    the runner is left out)."""
    with ProjectionRunner(
        application_class=Registry,
        projection_class=BaselineRosterProjection,
        view_class=BaselineRosterView,
        env=env,
    ) as runner:
        resumed = runner.view.max_tracking_id(runner.app_name) or 0
        runner.wait(notification_id=resumed + 1, timeout=60)
        started = time.perf_counter()
        first = runner.view.max_tracking_id(runner.app_name) or 0
        runner.wait(notification_id=upto, timeout=3_600)
        seconds = time.perf_counter() - started
        last = runner.view.max_tracking_id(runner.app_name) or 0
    return last - first, seconds


# --- the run -------------------------------------------------------------------------------


def rebuild(url: str, names: list[str] | None) -> RebuildSummary:
    with Projector(url) as projector:
        return projector.rebuild(names)


def main(
    events: int = typer.Option(200_000, help="Events in the log to rebuild."),
    baseline_events: int = typer.Option(
        10_000, help="Events the library baseline projects (a prefix of the log)."
    ),
    per_model: bool = typer.Option(
        False, "--per-model", help="Also rebuild each read model alone, to see which costs most."
    ),
) -> None:
    with fresh_database("bench_projection_rebuild") as url:
        env = library_env_for(url)
        registry = Registry(env=env)
        started = time.perf_counter()
        head = build_log(registry, events)
        registry.close()
        console.print(f"log of {head:,} events built in {time.perf_counter() - started:.0f} s")

        # The baseline runs in two halves, before and after the rebuilds: one commit per
        # event makes it the most sensitive to whatever else the machine's disk is doing.
        subset = min(baseline_events, head)
        before = run_baseline(env, subset // 2)
        everything = rebuild(url, None)
        roster = rebuild(url, ["roster"])
        alone = [rebuild(url, [name]) for name in everything.models] if per_model else []
        after = run_baseline(env, subset)
        subset, baseline_seconds = before[0] + after[0], before[1] + after[1]
        with psycopg.connect(url) as conn:
            live = conn.execute("SELECT count(*) FROM read_roster.roster").fetchone()
            people = int(live[0]) if live else 0

    base_rate = subset / baseline_seconds
    table = Table(title=f"Rebuilding read models from a log of {head:,} events")
    for column in ("run", "read models", "events", "seconds", "events/s", "vs baseline"):
        table.add_column(column, justify="left" if column in ("run", "read models") else "right")
    rows = [
        ("library ProjectionRunner", "roster", subset, baseline_seconds),
        ("campledger rebuild", "roster", roster.events, roster.seconds),
        ("campledger rebuild", f"all {len(everything.models)}", everything.events,
         everything.seconds),
    ]  # fmt: skip
    rows.extend(("campledger rebuild", s.models[0], s.events, s.seconds) for s in alone)
    for run, models, count, seconds in rows:
        rate = count / seconds
        table.add_row(
            run, models, f"{count:,}", f"{seconds:.1f}", f"{rate:,.0f}", f"{rate / base_rate:.1f}x"
        )
    console.print(table)
    console.print(
        f"rows after the full rebuild: {sum(everything.rows.values()):,} "
        f"({', '.join(f'{k} {v:,}' for k, v in everything.rows.items())}); "
        f"{people:,} people on the roster"
    )
    console.print(
        "baseline: eventsourcing 9.5 ProjectionRunner + Projection + PostgresTrackingRecorder "
        "view applying campledger's roster handlers, one transaction per event; campledger: "
        "Projector.rebuild into fresh schemas, 2,000-event batches, pipelined, then the swap."
    )


if __name__ == "__main__":
    typer.run(main)
