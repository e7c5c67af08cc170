"""Rebuild throughput of the read models: with per-person encryption, without it, and the
library's projection runner.

Builds two logs of about ``--events`` events each through the Registry: truckloads of
500 registrations, and between them what a reception centre records in a day (screening,
holds and releases, corrections, departures, a transfer of two dozen people to a camp
with one missing on arrival). One log is written as campledger writes it (each person's
personal fields encrypted under their own key); the other, in a database of its own, by
the same Registry without encryption (``bench.unencrypted``), and read back by a mapper
with nothing to open. Then, in the same run:

- campledger, every read model: ``Projector.rebuild()`` as ``campledger rebuild`` runs it
  (batches of 2,000 events, one transaction each, statements pipelined), on each log in
  turn, ``--rounds`` times, the order reversed every other round (A B, B A, ...) so that
  whatever else the machine does falls on both; the issue's target is that encryption
  slows the full rebuild by at most 20 %;
- campledger, roster only: ``Projector.rebuild(["roster"])``, alongside, on each log;
- library baseline: eventsourcing's ``ProjectionRunner`` with a ``Projection`` whose view
  (a ``PostgresTrackingRecorder``) applies the very same roster read model, one event per
  transaction with its tracking record, over the first ``--baseline-events`` events of
  the encrypted log.

Prints events, seconds, events/s and the ratios. Machines are noisy: the ratios are what
to compare across runs. The defaults take about 3 minutes on 2 cores; the README's figures
before encryption were measured on 200,000 events.

    python -m bench.projection_rebuild [--events 30000] [--rounds 2] [--baseline-events 4000]
        [--per-model]
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

from bench.support import KEY_STORE_SETUP, fresh_database, library_env_for
from bench.unencrypted import UnencryptedRegistry, unencrypted_decoder
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector, RebuildSummary
from campledger.projections.event_log import default_mapper, read_batch
from campledger.projections.readmodel import Envelope
from campledger.projections.rebuild import Decoder
from campledger.projections.roster import Roster

# The targets for a rebuild (docs/performance.md).
TARGET_ALL, TARGET_TIMES_FLOOR, TARGET_ROSTER = 50_000, 5, 100_000
console = Console(width=120)  # the tables are wider than a default 80 columns
ACTOR = "bench"
RECEPTION = "RC-BENCH"
CAMP = "CAMP-BENCH"
TRUCKLOAD = 500
# The target: a full rebuild of an encrypted log at most this much slower.
TARGET_SLOWDOWN = 0.20

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


def rebuild(
    url: str, names: list[str] | None, decoder: Decoder = default_mapper, processes: int = 1
) -> RebuildSummary:
    with Projector(
        url, decoder=decoder, rebuild_processes=processes, process_setup=KEY_STORE_SETUP
    ) as projector:
        return projector.rebuild(names)


def build(url: str, registry_class: type[Registry], events: int, label: str) -> int:
    registry = registry_class(env=library_env_for(url))
    started = time.perf_counter()
    head = build_log(registry, events)
    registry.close()
    console.print(f"{label}: log of {head:,} events built in {time.perf_counter() - started:.0f} s")
    return head


def read_and_decode(url: str, decoder: Decoder = default_mapper) -> RebuildSummary:
    """The floor of any rebuild: reading the whole log once, in the projector's batches,
    and decoding each event (personal fields opened), applying nothing."""
    with Projector(url, decoder=decoder) as projector:
        started = time.perf_counter()
        events = after = 0
        with projector.conn.cursor() as cur:
            while batch := read_batch(cur, projector.mapper, after, projector.batch_size):
                events += len(batch)
                after = batch[-1].position
        return RebuildSummary([], events, time.perf_counter() - started, after)


def add(total: RebuildSummary | None, more: RebuildSummary) -> RebuildSummary:
    """Rounds of one rebuild, summed."""
    if total is None:
        return more
    return RebuildSummary(
        total.models, total.events + more.events, total.seconds + more.seconds, more.head,
        more.rows,
    )  # fmt: skip


def main(
    events: int = typer.Option(30_000, help="Events in each log to rebuild."),
    rounds: int = typer.Option(2, help="Full rebuilds of each log, alternating."),
    baseline_events: int = typer.Option(
        4_000, help="Events the library baseline projects (a prefix of the encrypted log)."
    ),
    per_model: bool = typer.Option(
        False, "--per-model", help="Also rebuild each read model alone, to see which costs most."
    ),
    processes: int = typer.Option(
        2, min=1, max=8, help="Processes filling a full rebuild (campledger rebuild's default)."
    ),
) -> None:
    with (
        fresh_database("bench_projection_rebuild") as url,
        fresh_database("bench_projection_rebuild_plain") as plain_url,
    ):
        env = library_env_for(url)
        head = build(url, Registry, events, "encrypted")
        plain_head = build(plain_url, UnencryptedRegistry, events, "without encryption")
        logs: dict[str, tuple[str, Decoder]] = {
            "encrypted": (url, default_mapper),  # the key store's, as campledger rebuild uses
            "no encryption": (plain_url, unencrypted_decoder),
        }

        # The baseline runs in two halves, before and after the rebuilds: one commit per
        # event makes it the most sensitive to whatever else the machine's disk is doing.
        subset = min(baseline_events, head)
        before = run_baseline(env, subset // 2)
        full: dict[str, RebuildSummary | None] = dict.fromkeys(logs)
        roster: dict[str, RebuildSummary | None] = dict.fromkeys(logs)
        # With several processes each opens every envelope: the full rebuild in one process
        # as well, on both logs, shows what encryption costs either way.
        one_process: dict[str, RebuildSummary | None] = dict.fromkeys(logs)
        floor = None
        for r in range(rounds):
            for name in list(logs) if r % 2 == 0 else reversed(list(logs)):
                where, decoder = logs[name]
                full[name] = add(full[name], rebuild(where, None, decoder, processes))
                roster[name] = add(roster[name], rebuild(where, ["roster"], decoder))
                if processes > 1:
                    one_process[name] = add(one_process[name], rebuild(where, None, decoder))
                if name == "encrypted":
                    floor = add(floor, read_and_decode(where, decoder))
        everything = full["encrypted"]
        assert everything is not None and full["no encryption"] is not None
        alone = [rebuild(url, [name]) for name in everything.models] if per_model else []
        after = run_baseline(env, subset)
        subset, baseline_seconds = before[0] + after[0], before[1] + after[1]
        with psycopg.connect(url) as conn:
            live = conn.execute("SELECT count(*) FROM read_roster.roster").fetchone()
            people = int(live[0]) if live else 0

    base_rate = subset / baseline_seconds
    table = Table(
        title=f"Rebuilding read models: logs of {head:,} (encrypted) and {plain_head:,} events "
        f"(no encryption), {rounds} rounds"
    )
    assert floor is not None
    for column in ("run", "log", "read models", "events", "seconds", "events/s",
                   "vs no encryption", "vs library", "x the floor"):  # fmt: skip
        right = column in ("events", "seconds", "events/s") or column.startswith("vs")
        table.add_column(column, justify="right" if right else "left")
    # (run, log, read models, events, seconds, the same rebuild of the unencrypted log)
    rows: list[tuple[str, str, str, int, float, RebuildSummary | None]] = [
        ("library ProjectionRunner", "encrypted", "roster", subset, baseline_seconds, None),
        ("read and decode (floor)", "encrypted", "none", floor.events, floor.seconds, None),
    ]
    plain_roster, plain_full = roster["no encryption"], full["no encryption"]
    for name, unencrypted in (("encrypted", (plain_roster, plain_full)), ("no encryption", None)):
        for summary, models, compared in (
            (roster[name], "roster", unencrypted and unencrypted[0]),
            (
                full[name],
                f"all {len(everything.models)}, {processes} processes"
                if processes > 1
                else f"all {len(everything.models)}",
                unencrypted and unencrypted[1],
            ),
        ):
            assert summary is not None
            rows.append(("campledger rebuild", name, models, summary.events, summary.seconds,
                         compared))  # fmt: skip
    alone_enc, alone_plain = one_process["encrypted"], one_process["no encryption"]
    if alone_enc is not None and alone_plain is not None:
        label = f"all {len(everything.models)}, 1 process"
        rows.append(("campledger rebuild", "encrypted", label, alone_enc.events,
                     alone_enc.seconds, alone_plain))  # fmt: skip
        rows.append(("campledger rebuild", "no encryption", label, alone_plain.events,
                     alone_plain.seconds, None))  # fmt: skip
    rows.extend(("campledger rebuild", "encrypted", s.models[0], s.events, s.seconds, None)
                for s in alone)  # fmt: skip
    for run, log, models, count, seconds, compared in rows:
        rate = count / seconds
        versus = f"{rate / compared.events_per_second:.3f}x" if compared else ""
        table.add_row(
            run, log, models, f"{count:,}", f"{seconds:.1f}", f"{rate:,.0f}", versus,
            f"{rate / base_rate:.1f}x", f"{floor.events_per_second / rate:.1f}x",
        )  # fmt: skip
    console.print(table)
    times_floor = floor.events_per_second / everything.events_per_second
    roster_rate = roster["encrypted"].events_per_second if roster["encrypted"] else 0.0
    console.print(
        f"all read models: {everything.events_per_second:,.0f} events/s (target >= "
        f"{TARGET_ALL:,} on a 1M-event log), {times_floor:.1f}x the time of reading and "
        f"decoding the log (target <= {TARGET_TIMES_FLOOR}x); roster alone: {roster_rate:,.0f} "
        f"events/s (target >= {TARGET_ROSTER:,})"
    )
    compared_runs = [(f"{processes} processes" if processes > 1 else "1 process",
                      everything, plain_full)]  # fmt: skip
    if alone_enc is not None and alone_plain is not None:
        compared_runs.append(("1 process", alone_enc, alone_plain))
    for label, encrypted, plain in compared_runs:
        slowdown = plain.events_per_second / encrypted.events_per_second - 1
        console.print(
            f"full rebuild of the encrypted log, {label}: {slowdown:+.1%} time per event "
            f"against the log without encryption (target at most +{TARGET_SLOWDOWN:.0%}): "
            + ("[green]met[/green]" if slowdown <= TARGET_SLOWDOWN else "[red]not met[/red]")
        )
    console.print(
        f"rows after the last full rebuild: {sum(everything.rows.values()):,} "
        f"({', '.join(f'{k} {v:,}' for k, v in everything.rows.items())}); "
        f"{people:,} people on the roster"
    )
    console.print(
        "baseline: eventsourcing 9.5 ProjectionRunner + Projection + PostgresTrackingRecorder "
        "view applying campledger's roster handlers, one transaction per event; campledger: "
        "Projector.rebuild into fresh schemas, 2,000-event batches, pipelined, then the swap; "
        "no encryption: the same rebuild of a log written and read without per-person keys."
    )


if __name__ == "__main__":
    typer.run(main)
