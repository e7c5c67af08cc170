"""A realistic, seeded stream of Registry commands, and how to compare read models.

The stream is what a reception centre does all day: truckloads of arrivals, the odd
walk-in, screening (some held, later released), corrections, duplicates merged,
transfers to camps with someone missing at the other end, departures. Every event
type the read models handle appears, so a skipped or doubled event shows in some table.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import CommandResult, Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.event_log import APPLICATION_NAME, EVENTS_TABLE
from campledger.projections.readmodel import ReadModel
from tests.projections.lifecycle import table_contents

ACTOR = "officer-7"
RECEPTION = "RC-1"
CAMPS = ("CAMP-1", "CAMP-2")

Snapshot = dict[str, dict[str, list[Any]]]


@pytest.fixture
def registry(library_env: dict[str, str]) -> Iterator[Registry]:
    """A Registry on the test database, on the real clock (events get distinct times)."""
    app = Registry(env=library_env)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def as_url(conninfo: str, **query: str) -> str:
    """The test database as the ``postgresql://`` URL that CAMPLEDGER_DATABASE_URL takes."""
    params = conninfo_to_dict(conninfo)
    user = params.get("user", "postgres")
    host = str(params.get("host", ""))
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    if host.startswith("/"):  # the embedded server's socket directory
        return f"postgresql://{user}@/{params['dbname']}?host={host}{extra}"
    port = params.get("port", 5432)
    return f"postgresql://{user}@{host}:{port}/{params['dbname']}" + (
        f"?{extra[1:]}" if extra else ""
    )


def open_sites(registry: Registry) -> None:
    registry.open_site(
        code=RECEPTION, name="Reception 1", kind="reception", capacity=1_000_000,
        admin1_pcode="SD01", actor=ACTOR,
    )  # fmt: skip
    for code in CAMPS:
        registry.open_site(
            code=code, name=f"Camp {code[-1]}", kind="camp", capacity=1_000_000,
            latitude=12.5, longitude=24.1, actor=ACTOR,
        )  # fmt: skip


# Names vary the way a caseload's do, so the likely-duplicates model proposes a few
# pairs rather than everyone with everyone.
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


def arrivals(prefix: str, start: int, count: int) -> list[Arrival]:
    """``count`` distinct arrivals: households of four, some needs, some biometrics."""
    made = []
    salt = sum(map(ord, prefix))
    for i in range(start, start + count):
        n = i + salt * 1_009
        made.append(
            Arrival(
                registration_number=f"{prefix}-{i:06d}",
                given_name=GIVEN[(n * 7) % len(GIVEN)],
                family_name=f"{FAMILY[n // 4 % len(FAMILY)]} {GIVEN[n // 100 % len(GIVEN)]}",
                sex=("female", "male", "unknown")[i % 3],
                nationality=("SDN", "SSD", "TCD")[i % 3],
                estimated_age=None if i % 5 == 0 else 1 + n % 70,
                date_of_birth=None if i % 5 else _dob(n),
                household_id=f"{prefix}-H{i // 4:05d}" if i % 7 else None,
                relationship=("focal_point", "spouse", "child", "child")[i % 4] if i % 7 else None,
                biometric_reference=f"{prefix}-BIO-{i:06d}" if i % 3 == 0 else None,
                specific_needs=("SM-OT",) if i % 11 == 0 else (),
            )
        )
    return made


def _dob(i: int) -> date:
    return date(1960 + i % 60, 1 + i % 12, 1 + i % 28)


class Reception:
    """One officer's stream of commands at the reception centre, seeded for repeatability.

    ``run`` yields after every command, so a caller can project between commands.
    Persons are kept apart per ``prefix``: several Receptions can write concurrently
    without ever touching each other's records (no conflicts, no gaps in positions).
    """

    def __init__(self, registry: Registry, rng: random.Random, prefix: str) -> None:
        self.registry = registry
        self.rng = rng
        self.prefix = prefix
        self.next_number = 0
        self.registered: list[UUID] = []
        self.at_reception: list[UUID] = []  # present, movable
        self.held: list[UUID] = []

    def register_batch(self, size: int) -> CommandResult:
        batch = arrivals(self.prefix, self.next_number, size)
        self.next_number += size
        result = self.registry.register_arrivals(site_code=RECEPTION, arrivals=batch, actor=ACTOR)
        ids = [UUID(p) for p in result.result["person_ids"]]
        self.registered.extend(ids)
        self.at_reception.extend(ids)
        return result

    def register_one(self) -> CommandResult:
        (arrival,) = arrivals(self.prefix, self.next_number, 1)
        self.next_number += 1
        result = self.registry.register_arrival(site_code=RECEPTION, arrival=arrival, actor=ACTOR)
        person = UUID(result.result["person_id"])
        self.registered.append(person)
        self.at_reception.append(person)
        return result

    def _take(self, count: int) -> list[UUID]:
        count = min(count, len(self.at_reception))
        taken = self.rng.sample(self.at_reception, count)
        for person in taken:
            self.at_reception.remove(person)
        return taken

    def small_steps(self) -> Iterator[CommandResult]:
        """One round of everything but registration batches: each yield is one command."""
        reg, rng = self.registry, self.rng
        yield self.register_one()
        for person in self._take(3):
            step = rng.choice(("identity", "medical", "vulnerability"))
            yield reg.record_screening_step(
                person_id=person, step=step, outcome="cleared", actor=ACTOR
            )
            self.at_reception.append(person)
        for person in self._take(1):
            yield reg.record_screening_step(
                person_id=person, step="security", outcome="held", reason="interview",
                actor=ACTOR,
            )  # fmt: skip
            self.held.append(person)
        if len(self.held) > 1:
            person = self.held.pop(0)
            yield reg.release_person(person_id=person, reason="cleared", actor=ACTOR)
            self.at_reception.append(person)
        for person in self._take(1):
            yield reg.correct_detail(
                person_id=person, field="specific_needs", value=["DS"], reason="typo",
                actor=ACTOR,
            )  # fmt: skip
            self.at_reception.append(person)
        # A walk-in who turns out to be someone already registered.
        survivors = self._take(1)
        if survivors:
            duplicate = self.register_one()
            self.at_reception.pop()
            yield duplicate
            yield reg.merge_persons(
                duplicate_id=UUID(duplicate.result["person_id"]), survivor_id=survivors[0],
                reason="same person", actor=ACTOR,
            )  # fmt: skip
            self.at_reception.append(survivors[0])
        manifest = self._take(rng.randint(2, 12))
        if len(manifest) >= 2:
            planned = reg.plan_transfer(
                origin=RECEPTION, destination=rng.choice(CAMPS), manifest=manifest,
                vehicle="truck", order_reference=f"{self.prefix}-T{self.next_number}",
                actor=ACTOR,
            )  # fmt: skip
            yield planned
            transfer = UUID(planned.result["transfer_id"])
            yield reg.dispatch_transfer(transfer_id=transfer, actor=ACTOR)
            arrived = manifest[:-1]
            destination = reg.get_transfer(transfer).destination
            yield reg.receive_transfer(
                transfer_id=transfer, site_code=destination, persons=arrived, actor=ACTOR
            )
            yield reg.reconcile_transfer(transfer_id=transfer, actor=ACTOR)
        for person in self._take(1):
            yield reg.record_departure(person_id=person, reason="resettled", actor=ACTOR)

    def run(self, rounds: int, batch_size: int) -> Iterator[CommandResult]:
        """``rounds`` times: a truckload of ``batch_size`` arrivals, then the small steps."""
        for _ in range(rounds):
            yield self.register_batch(batch_size)
            yield from self.small_steps()


# --- looking at the read side -------------------------------------------------------------


def snapshot(
    conn: psycopg.Connection[Any], models: Sequence[type[ReadModel]] = READ_MODELS
) -> Snapshot:
    """Every row of every table of each read model's live schema (checkpoints aside)."""
    return {cls.name: table_contents(conn, cls.live_schema()) for cls in models}


def assert_same_tables(got: Snapshot, expected: Snapshot) -> None:
    """Table by table, so a failure names the read model and table that differ."""
    assert got.keys() == expected.keys()
    for model, tables in expected.items():
        assert got[model].keys() == tables.keys(), model
        # A scratch table may be empty between batches; a whole empty model proves nothing.
        assert any(tables.values()), f"{model} is empty: the comparison would prove nothing"
        for table, rows in tables.items():
            mine = got[model][table]
            if mine != rows:
                missing = [r for r in rows if r not in mine][:3]
                extra = [r for r in mine if r not in rows][:3]
                raise AssertionError(
                    f"{model}.{table}: {len(mine)} rows vs {len(rows)} expected; "
                    f"first missing {missing}, first extra {extra}"
                )


def checkpoints(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Each read model's checkpoint, read without creating anything (0 if not set up)."""
    found = {}
    for cls in READ_MODELS:
        table = sql.Identifier(cls.live_schema(), "tracking")
        exists = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f'"{cls.live_schema()}".tracking',)
        ).fetchone()
        if not (exists and exists[0]):
            found[cls.name] = 0
            continue
        row = conn.execute(
            sql.SQL("SELECT notification_id FROM {} WHERE application_name = %s").format(table),
            (APPLICATION_NAME,),
        ).fetchone()
        found[cls.name] = int(row[0]) if row else 0
    return found


def log_positions(conn: psycopg.Connection[Any]) -> list[int]:
    rows = conn.execute(
        sql.SQL("SELECT notification_id FROM {} ORDER BY notification_id").format(
            sql.Identifier(EVENTS_TABLE)
        )
    ).fetchall()
    return [int(r[0]) for r in rows]


def head(conn: psycopg.Connection[Any]) -> int:
    positions = log_positions(conn)
    return positions[-1] if positions else 0


def projected_from_zero(database_url: str, models: Sequence[type[ReadModel]]) -> Snapshot:
    """What these read models hold when the whole log is applied to empty tables: each
    model projected from position 0 into a scratch schema, read, and dropped. The live
    schemas and their checkpoints are not touched."""
    from campledger.projections.engine import Projector

    scratch = [cls(schema=f"{cls.live_schema()}__reference") for cls in models]
    with psycopg.connect(database_url, autocommit=True) as conn:
        try:
            with Projector(database_url, models) as projector:
                projector.models = scratch
                projector.catch_up()
            return {model.name: table_contents(conn, model.schema) for model in scratch}
        finally:
            for model in scratch:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(model.schema))
                )


# --- proving a kill landed inside a transaction ---------------------------------------------


def open_writes(
    conn: psycopg.Connection[Any], application: str | None, writing_to: str | None = None
) -> list[int]:
    """The transactions that backends of this application (of any, if None) have open with
    writes in them (PostgreSQL assigns a transaction id at the first write), as full 64-bit
    ids; with ``writing_to``, only those holding a write lock on that table."""
    query = (
        "SELECT a.backend_xid::text::bigint, "
        "pg_snapshot_xmax(pg_current_snapshot())::text::bigint "
        "FROM pg_stat_activity AS a WHERE a.backend_xid IS NOT NULL "
        "AND a.datname = current_database() AND a.pid <> pg_backend_pid()"
    )
    params: list[Any] = []
    if application is not None:
        query += " AND a.application_name = %s"
        params.append(application)
    if writing_to is not None:
        query += (
            " AND EXISTS (SELECT 1 FROM pg_locks AS l WHERE l.pid = a.pid AND l.granted "
            "AND l.relation = to_regclass(%s) AND l.mode <> 'AccessShareLock')"
        )
        params.append(writing_to)
    found = []
    for xid, xmax in conn.execute(query, params).fetchall():
        full = (int(xmax) >> 32 << 32) | int(xid)
        # An id far above the snapshot's horizon is from the epoch before (a wraparound);
        # one just above it was handed out after the snapshot was taken.
        found.append(full - (1 << 32) if full > int(xmax) + (1 << 31) else full)
    return found


def wait_disconnected(conn: psycopg.Connection[Any], application: str, timeout: float) -> None:
    """Until the server has noticed a killed client and ended (rolled back) its sessions."""
    deadline = time.monotonic() + timeout
    while conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application,)
    ).fetchone() != (0,):
        assert time.monotonic() < deadline, f"the sessions of {application} never ended"
        time.sleep(0.01)


def settled_fates(
    conn: psycopg.Connection[Any], transactions: Sequence[int], timeout: float
) -> list[str]:
    """What became of these transactions once none is in progress any more (the server
    rolls back a killed client's transaction when it notices the client is gone)."""
    deadline = time.monotonic() + timeout
    while "in progress" in (found := fates(conn, transactions)):
        assert time.monotonic() < deadline, "a killed client's transaction never ended"
        time.sleep(0.01)
    return found


def fates(conn: psycopg.Connection[Any], transactions: Sequence[int]) -> list[str]:
    """What became of these transactions: committed, aborted (or in progress)."""
    found = []
    for transaction in transactions:
        row = conn.execute("SELECT pg_xact_status(%s::text::xid8)", (str(transaction),)).fetchone()
        found.append(str(row[0]) if row else "unknown")
    return found
