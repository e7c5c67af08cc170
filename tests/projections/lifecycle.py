"""A full lifecycle scenario through Registry commands, for the roster/stays/occupancy tests.

Sites RC-1 (reception) and CAMP-1 (camp, capacity 4). Times are field times (occurred_at)
on a fixed day, one hour apart, so as-of checks can land between any two events.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.occupancy import Occupancy
from campledger.projections.readmodel import Envelope, ReadModel
from campledger.projections.roster import Roster
from campledger.projections.stays import Stays

NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
TODAY = NOW.date()
ACTOR = "officer-1"
MODELS: list[type[ReadModel]] = [Roster, Stays, Occupancy]


def t(hours: float) -> datetime:
    """Field time: ``hours`` after the scenario's start."""
    return T0 + timedelta(hours=hours)


def arrival(number: str, **overrides: Any) -> Arrival:
    base = Arrival(
        registration_number=number,
        given_name="Amina",
        family_name="Haroun",
        sex="female",
        nationality="SDN",
        estimated_age=30,
        occurred_at=t(1),
    )
    return replace(base, **overrides)


@pytest.fixture
def registry(library_env: dict[str, str]) -> Iterator[Registry]:
    app = Registry(env=library_env, clock=lambda: NOW)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def project(database_url: str, batch_size: int = 2_000) -> int:
    with Projector(database_url, MODELS, batch_size=batch_size) as projector:
        return projector.catch_up()


def open_sites(registry: Registry, camp_capacity: int = 4) -> None:
    registry.open_site(
        code="RC-1", name="Reception 1", kind="reception", capacity=100,
        admin1_pcode="SD01", occurred_at=t(0), actor=ACTOR,
    )  # fmt: skip
    registry.open_site(
        code="CAMP-1", name="Camp 1", kind="camp", capacity=camp_capacity,
        latitude=12.5, longitude=24.1, occurred_at=t(0), actor=ACTOR,
    )  # fmt: skip


def register(registry: Registry, site: str, *arrivals: Arrival) -> list[UUID]:
    result = registry.register_arrivals(site_code=site, arrivals=list(arrivals), actor=ACTOR)
    return [UUID(p) for p in result.result["person_ids"]]


@dataclass
class Lifecycle:
    """Who is who in the full lifecycle, and when each step happened (hours after T0)."""

    child: UUID  # A: girl born 2021-06-01, unaccompanied; transferred and received at 5
    father: UUID  # B: man, ~30; transferred, received at 5; survivor of the merge at 11
    elder: UUID  # C: woman, ~65, older person at risk; unaccounted at 6, received late at 7
    held: UUID  # D: man, ~20; held at 2 (screening), released at 8, departed at 9
    duplicate: UUID  # F: B registered twice; merged into B at 11
    transfer: UUID


def full_lifecycle(registry: Registry, until: float = 99) -> Lifecycle:
    """Arrival → screening hold → transfer → partial receipt → reconcile → late receipt →
    release → departure → corrections (sex, date of birth, needs) → merge.

    ``until`` stops after the step at that hour (registration is at hour 1)."""
    open_sites(registry)
    child, father, elder, held, duplicate = register(
        registry,
        "RC-1",
        arrival("R-001", date_of_birth=date(2021, 6, 1), estimated_age=None,
                specific_needs=("UM",), household_id="H1",
                relationship="child", biometric_reference="BIO-1"),
        arrival("R-002", sex="male", household_id="H1", relationship="focal_point"),
        arrival("R-003", estimated_age=65, specific_needs=("ER",),
                nationality="SSD"),
        arrival("R-004", sex="male", estimated_age=20),
        arrival("R-005", sex="male", estimated_age=31),
    )  # fmt: skip
    if until < 2:
        return Lifecycle(child, father, elder, held, duplicate, UUID(int=0))
    registry.record_screening_step(
        person_id=held, step="security", outcome="held", reason="interview",
        occurred_at=t(2), actor=ACTOR,
    )  # fmt: skip
    transfer = UUID(
        registry.plan_transfer(
            origin="RC-1", destination="CAMP-1", manifest=[child, father, elder],
            occurred_at=t(3), actor=ACTOR,
        ).result["transfer_id"]
    )  # fmt: skip
    if until < 4:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    registry.dispatch_transfer(transfer_id=transfer, occurred_at=t(4), actor=ACTOR)
    if until < 5:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    registry.receive_transfer(
        transfer_id=transfer, site_code="CAMP-1", persons=[child, father],
        occurred_at=t(5), actor=ACTOR,
    )  # fmt: skip
    if until < 6:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    registry.reconcile_transfer(transfer_id=transfer, occurred_at=t(6), actor=ACTOR)
    if until < 7:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    registry.receive_transfer(
        transfer_id=transfer, site_code="CAMP-1", persons=[elder], occurred_at=t(7), actor=ACTOR
    )
    if until < 8:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    registry.release_person(person_id=held, reason="cleared", occurred_at=t(8), actor=ACTOR)
    if until < 9:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    registry.record_departure(person_id=held, reason="resettled", occurred_at=t(9), actor=ACTOR)
    if until < 10:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    correct(registry, father, "sex", "female", t(10))
    correct(registry, child, "date_of_birth", "2012-01-15", t(10))
    correct(registry, elder, "specific_needs", ["ER", "SM-OT"], t(10))
    if until < 11:
        return Lifecycle(child, father, elder, held, duplicate, transfer)
    registry.merge_persons(
        duplicate_id=duplicate, survivor_id=father, reason="same fingerprints",
        occurred_at=t(11), actor=ACTOR,
    )  # fmt: skip
    return Lifecycle(child, father, elder, held, duplicate, transfer)


def correct(registry: Registry, person: UUID, field: str, value: Any, when: datetime) -> None:
    registry.correct_detail(
        person_id=person, field=field, value=value, reason="typo", occurred_at=when, actor=ACTOR
    )


# --- applying in arbitrary batches ------------------------------------------------------


def envelopes(registry: Registry) -> list[Envelope]:
    found = []
    for n in registry.recorder.select_notifications(start=1, limit=10**6):
        event = registry.mapper.to_domain_event(n)
        found.append(
            Envelope(n.id, UUID(str(n.originator_id)), n.originator_version, n.topic, event)
        )
    return found


def apply_in_batches(
    database_url: str, model: ReadModel, events: Sequence[Envelope], rng: random.Random
) -> None:
    """Apply events to a model in randomly sized batches, one transaction each."""
    with psycopg.connect(database_url) as connection:
        with connection.transaction(), connection.cursor() as cur:
            model.create(cur)
        start = 0
        while start < len(events):
            size = rng.randint(1, 7)
            with connection.transaction(), connection.cursor() as cur, connection.pipeline():
                model.apply(cur, events[start : start + size])
            start += size


def table_contents(conn: psycopg.Connection[Any], schema: str) -> dict[str, list[Any]]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name NOT IN ('tracking', 'quarantine', 'shape') ORDER BY table_name",
            (schema,),
        )
    ]
    contents = {}
    for table in tables:
        rows = conn.execute(
            psycopg.sql.SQL("SELECT * FROM {}").format(psycopg.sql.Identifier(schema, table))
        ).fetchall()
        contents[table] = sorted(rows, key=repr)
    return contents
