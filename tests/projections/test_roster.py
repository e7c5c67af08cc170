"""The roster read model: who is where now, with filters, pages and corrections."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from campledger.domain.model.errors import DomainError
from campledger.domain.model.values import AGE_BANDS, age_band, age_on
from campledger.domain.service.registry import Registry
from campledger.projections.ages import age_band_bounds
from campledger.projections.name_keys import KEY_COLUMNS
from campledger.projections.roster import Roster, get_person_row, roster_page
from campledger.projections.roster_rows import PAGE_COLUMN_NAMES, PERSONAL_COLUMNS
from tests.projections.lifecycle import (
    ACTOR,
    TODAY,
    apply_in_batches,
    arrival,
    conn,
    envelopes,
    full_lifecycle,
    open_sites,
    project,
    register,
    registry,
    t,
    table_contents,
)

__all__ = ["conn", "registry"]  # fixtures

pytestmark = pytest.mark.postgres


def numbers(rows: list[dict[str, Any]]) -> list[str]:
    return [r["registration_number"] for r in rows]


def test_a_registered_person_is_on_the_roster_of_their_site(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=1)
    project(database_url)

    page = roster_page(conn, "RC-1", today=TODAY)

    assert numbers(page.rows) == ["R-001", "R-002", "R-003", "R-004", "R-005"]
    assert page.next_cursor is None
    child = page.rows[0]
    assert child["person_id"] == people.child
    assert child["status"] == "present"
    assert child["site_code"] == child["last_site_code"] == "RC-1"
    assert child["specific_needs"] == ["UM"]
    assert child["household_id"] == "H1" and child["relationship"] == "child"
    assert child["age_band"] == "0-4" and child["age"] == 3
    assert child["registered_at"] == child["updated_at"] == t(1)
    assert child["version"] == 1


def test_personal_data_is_returned_only_when_asked_for(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=1)
    project(database_url)

    hidden = get_person_row(conn, people.child)
    shown = get_person_row(conn, people.child, include_personal=True)

    assert hidden is not None and shown is not None
    for field in ("given_name", "family_name", "date_of_birth", "biometric_reference"):
        assert field not in hidden
        assert field not in roster_page(conn, "RC-1").rows[0]
    assert "birth_date_estimate" not in hidden  # it is the date of birth when one is known
    assert shown["given_name"] == "Amina" and shown["biometric_reference"] == "BIO-1"
    assert shown["date_of_birth"] == shown["birth_date_estimate"] == date(2021, 6, 1)


def test_a_page_reads_every_column_of_the_table_but_the_name_keys(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    # A column added to the table and not to the page's list would be missing from the
    # roster; the name keys are never shown, and the bulk of a row.
    open_sites(registry)
    project(database_url)
    table = [
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'roster' ORDER BY ordinal_position",
            (Roster.live_schema(),),
        )
    ]
    assert sorted(c for c in table if c not in KEY_COLUMNS) == sorted(PAGE_COLUMN_NAMES)


def test_a_page_without_personal_data_leaves_those_columns_unread(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry, until=1)
    project(database_url)
    hidden = roster_page(conn, "RC-1", today=TODAY).rows
    shown = roster_page(conn, "RC-1", today=TODAY, include_personal=True).rows
    personal = set(PERSONAL_COLUMNS)
    assert hidden and all(personal.isdisjoint(row) for row in hidden)
    assert all(personal - {"birth_date_estimate"} <= set(row) for row in shown)
    # The same rows otherwise, the age (from the birth date's estimate) included.
    assert [{k: v for k, v in row.items() if k not in personal} for row in shown] == hidden
    assert all(not set(KEY_COLUMNS) & set(row) for row in shown)


def test_unknown_person_has_no_row(
    registry: Registry, conn: psycopg.Connection[Any], database_url: str
) -> None:
    open_sites(registry)
    project(database_url)
    assert get_person_row(conn, uuid4()) is None


def test_a_held_person_stays_on_the_roster_of_their_site_with_status_held(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=3)
    project(database_url)

    held = roster_page(conn, "RC-1", status="held").rows

    assert [r["person_id"] for r in held] == [people.held]
    assert held[0]["site_code"] == "RC-1"
    assert people.held in {r["person_id"] for r in roster_page(conn, "RC-1").rows}
    planned = get_person_row(conn, people.child)
    assert planned is not None
    assert planned["transfer_id"] == people.transfer and planned["status"] == "present"


def test_the_roster_keeps_each_screening_step_once_and_lists_who_has_not_had_one(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    twice, held, waiting = register(
        registry, "RC-1", *(arrival(f"R-{n}", sex="male") for n in (1, 2, 3))
    )
    for person, step, outcome, order in (
        (twice, "security", "cleared", {}),
        (twice, "medical", "referred", {}),
        (twice, "security", "cleared", {}),
        (held, "security", "held", {"authority": "Governor", "order_reference": "GOV-1"}),
    ):
        registry.record_screening_step(
            person_id=person, step=step, outcome=outcome, reason="", occurred_at=t(2),
            actor=ACTOR, **order,
        )  # fmt: skip
    project(database_url)

    def without(step: str, **filters: Any) -> list[Any]:
        return [
            r["person_id"] for r in roster_page(conn, "RC-1", without_step=step, **filters).rows
        ]

    steps = {r["person_id"]: r["screening_steps"] for r in roster_page(conn, "RC-1").rows}
    assert steps == {twice: ["medical", "security"], held: ["security"], waiting: []}
    assert without("security") == [waiting]
    assert without("medical") == [held, waiting]
    assert without("medical", status="held") == [held]
    assert without("identity", sex="female") == []


def test_persons_in_transit_are_on_no_site_roster(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=4)
    project(database_url)

    assert numbers(roster_page(conn, "RC-1").rows) == ["R-004", "R-005"]
    assert roster_page(conn, "CAMP-1").rows == []
    travelling = roster_page(conn, None, status="in_transit").rows
    assert {r["person_id"] for r in travelling} == {people.child, people.father, people.elder}
    for row in travelling:
        assert row["site_code"] is None
        assert row["last_site_code"] == "RC-1"
        assert row["transfer_id"] == people.transfer


def test_after_a_partial_receipt_and_reconciliation_the_missing_person_is_unaccounted_for(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=6)
    project(database_url)

    assert numbers(roster_page(conn, "CAMP-1").rows) == ["R-001", "R-002"]
    missing = roster_page(conn, None, status="unaccounted").rows
    assert [r["person_id"] for r in missing] == [people.elder]
    assert missing[0]["site_code"] is None and missing[0]["transfer_id"] == people.transfer
    received = get_person_row(conn, people.child)
    assert received is not None and received["transfer_id"] is None


def test_the_full_lifecycle_leaves_each_person_where_the_registry_says(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry)
    project(database_url)

    for person_id in (people.child, people.father, people.elder, people.held, people.duplicate):
        row = get_person_row(conn, person_id, include_personal=True)
        aggregate = registry.get_person(person_id)
        assert row is not None
        assert row["status"] == aggregate.status.value
        assert row["site_code"] == aggregate.site_code
        assert row["version"] == aggregate.version
        assert row["sex"] == aggregate.sex
        assert row["date_of_birth"] == aggregate.date_of_birth
        assert tuple(row["specific_needs"]) == aggregate.specific_needs
        assert row["transfer_id"] == aggregate.transfer_id
        assert row["updated_at"] == aggregate.last_occurred_at
    assert numbers(roster_page(conn, "CAMP-1").rows) == ["R-001", "R-002", "R-003"]
    assert roster_page(conn, "RC-1").rows == []
    departed = roster_page(conn, "RC-1", status="departed").rows
    assert [r["person_id"] for r in departed] == [people.held]
    merged = get_person_row(conn, people.duplicate)
    assert merged is not None
    assert merged["merged_into"] == people.father and merged["site_code"] is None
    assert merged["last_site_code"] == "RC-1"


def test_corrections_update_the_right_columns(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry)
    project(database_url)

    father = get_person_row(conn, people.father)
    child = get_person_row(conn, people.child, include_personal=True)
    elder = get_person_row(conn, people.elder)
    assert father is not None and child is not None and elder is not None
    assert father["sex"] == "female"
    assert child["date_of_birth"] == child["birth_date_estimate"] == date(2012, 1, 15)
    assert child["age_band"] == "12-17"
    assert elder["specific_needs"] == ["ER", "SM-OT"]
    assert numbers(roster_page(conn, "CAMP-1", sex="female").rows) == ["R-001", "R-002", "R-003"]
    assert numbers(roster_page(conn, "CAMP-1", specific_need="SM-OT").rows) == ["R-003"]
    # A category finds its sub-codes; a sub-code finds only itself.
    assert numbers(roster_page(conn, "CAMP-1", specific_need="SM").rows) == ["R-003"]
    assert numbers(roster_page(conn, "CAMP-1", specific_need="sm-mn").rows) == []
    with pytest.raises(DomainError, match="unknown specific need code"):
        roster_page(conn, "CAMP-1", specific_need="hungry")


def test_correcting_the_estimated_age_moves_the_birth_date_estimate(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    (person,) = register(registry, "RC-1", arrival("R-100", estimated_age=30))
    registry.correct_detail(
        person_id=person, field="estimated_age", value=8, reason="typo",
        occurred_at=t(2), actor=ACTOR,
    )  # fmt: skip
    project(database_url)

    row = get_person_row(conn, person, include_personal=True, today=date(2025, 3, 1))
    assert row is not None
    assert row["estimated_age"] == 8
    assert row["birth_date_estimate"] == date(2017, 3, 1)
    assert row["age_band"] == "5-11"


def test_removing_the_date_of_birth_falls_back_on_the_estimated_age(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    (person,) = register(
        registry, "RC-1", arrival("R-100", date_of_birth=date(1990, 1, 1), estimated_age=70)
    )
    registry.correct_detail(
        person_id=person, field="date_of_birth", value=None, reason="forged papers",
        occurred_at=t(2), actor=ACTOR,
    )  # fmt: skip
    project(database_url)

    row = get_person_row(conn, person, include_personal=True, today=date(2025, 3, 1))
    assert row is not None
    assert row["date_of_birth"] is None
    assert row["birth_date_estimate"] == date(1955, 3, 1)
    assert row["age_band"] == "60+"


def test_pages_cover_a_filtered_roster_exactly_once_in_registration_number_order(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    rng = random.Random(7)
    arrivals = [
        arrival(
            f"R-{n:04d}",
            sex=rng.choice(["female", "male", "unknown"]),
            estimated_age=rng.choice([2, 9, 15, 30, 70]),
            specific_needs=("DS",) if n % 3 == 0 else (),
            nationality=rng.choice(["SDN", "SSD"]),
        )
        for n in rng.sample(range(1000), 120)
    ]
    register(registry, "RC-1", *arrivals)
    project(database_url)

    def all_pages(**filters: Any) -> list[dict[str, Any]]:
        rows, cursor = [], None
        while True:
            page = roster_page(conn, "RC-1", after=cursor, limit=17, today=TODAY, **filters)
            assert len(page.rows) <= 17
            rows.extend(page.rows)
            if page.next_cursor is None:
                return rows
            cursor = page.next_cursor

    everyone = all_pages()
    assert numbers(everyone) == sorted(a.registration_number for a in arrivals)
    women = all_pages(sex="female", nationality="SDN", specific_need="DS")
    assert numbers(women) == sorted(
        a.registration_number
        for a in arrivals
        if a.sex == "female" and a.nationality == "SDN" and "DS" in a.specific_needs
    )
    for band, _, _ in AGE_BANDS:
        in_band = all_pages(age_band=band)
        expected = [a for a in arrivals if age_band(a.estimated_age) == band]
        assert numbers(in_band) == sorted(a.registration_number for a in expected)


def test_a_bad_cursor_or_band_is_refused(
    registry: Registry, conn: psycopg.Connection[Any], database_url: str
) -> None:
    open_sites(registry)
    project(database_url)
    with pytest.raises(ValueError):
        roster_page(conn, "RC-1", after="not-a-cursor")
    with pytest.raises(ValueError):
        roster_page(conn, "RC-1", age_band="20-30")
    with pytest.raises(ValueError):
        roster_page(conn, "RC-1", status="lost")


@pytest.mark.parametrize(
    "today", [date(2025, 3, 1), date(2024, 2, 29), date(2025, 2, 28), date(2024, 12, 31)]
)
def test_age_band_bounds_agree_with_age_on_every_birth_date(today: date) -> None:
    day = today
    while day.year > today.year - 70:
        band = age_band(age_on(day, today))
        born_after, born_by = age_band_bounds(band, today)
        assert day <= born_by and (born_after is None or day > born_after), (day, band)
        day -= timedelta(days=1)


def test_batches_split_differently_give_identical_tables(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    events = envelopes(registry)

    for seed in range(3):
        schema = f"roster_split_{seed}"
        apply_in_batches(database_url, Roster(schema=schema), events, random.Random(seed))
        assert table_contents(conn, schema) == table_contents(conn, Roster.live_schema())
