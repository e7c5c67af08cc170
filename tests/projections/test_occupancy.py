"""The occupancy read model: sites, and who is physically at each by sex, age band and need."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from campledger.domain.model.errors import DomainError
from campledger.domain.model.needs import SpecificNeed, with_categories
from campledger.domain.model.person import Person
from campledger.domain.model.values import AGE_BANDS, PersonStatus, age_band, age_on
from campledger.domain.service.registry import Registry
from campledger.projections.occupancy import (
    Occupancy,
    all_sites_occupancy,
    get_site,
    list_sites,
    site_occupancy,
)
from campledger.projections.roster import roster_page
from campledger.projections.stays import roster_as_of
from tests.projections.lifecycle import (
    ACTOR,
    MODELS,
    apply_in_batches,
    arrival,
    conn,
    correct,
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


def cells(occupancy: dict[str, Any] | None) -> dict[tuple[str, str], int]:
    """The non-empty cells of the sex × age band matrix."""
    assert occupancy is not None
    return {
        (sex, band): n
        for sex, bands in occupancy["by_sex_age"].items()
        for band, n in bands.items()
        if n
    }


def needs(occupancy: dict[str, Any] | None) -> dict[str, int]:
    assert occupancy is not None
    return {need: n for need, n in occupancy["by_need"].items() if n}


def test_sites_are_listed_with_their_details(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    registry.change_site_capacity(code="CAMP-1", capacity=50, occurred_at=t(1), actor=ACTOR)
    registry.close_site(code="RC-1", reason="season over", occurred_at=t(2), actor=ACTOR)
    project(database_url)

    assert [s["code"] for s in list_sites(conn)] == ["CAMP-1", "RC-1"]
    assert [s["code"] for s in list_sites(conn, include_closed=False)] == ["CAMP-1"]
    camp = get_site(conn, "CAMP-1")
    assert camp is not None
    assert camp["capacity"] == 50 and camp["kind"] == "camp" and camp["is_open"]
    assert (camp["latitude"], camp["longitude"]) == (12.5, 24.1)
    assert camp["opened_at"] == t(0) and camp["closed_at"] is None
    reception = get_site(conn, "RC-1")
    assert reception is not None
    assert not reception["is_open"] and reception["closed_at"] == t(2)
    assert reception["admin1_pcode"] == "SD01"
    assert get_site(conn, "NOPE") is None
    assert site_occupancy(conn, "NOPE") is None


def test_an_empty_site_shows_a_full_matrix_of_zeros(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    project(database_url)

    camp = site_occupancy(conn, "CAMP-1")
    assert camp is not None
    assert camp["total"] == 0 and camp["capacity"] == 4 and camp["occupancy_rate"] == 0
    assert set(camp["by_sex_age"]) == {"female", "male", "unknown"}
    for bands in camp["by_sex_age"].values():
        assert bands == {name: 0 for name, _, _ in AGE_BANDS}
    assert set(camp["by_need"]) == {need.value for need in SpecificNeed}  # the 12 categories
    assert not any(camp["by_need"].values())


def test_arrivals_are_counted_by_sex_age_band_and_need_held_persons_included(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry, until=2)
    project(database_url)

    reception = site_occupancy(conn, "RC-1")
    assert reception is not None and reception["total"] == 5
    assert cells(reception) == {("female", "0-4"): 1, ("male", "18-59"): 3, ("female", "60+"): 1}
    assert needs(reception) == {"UM": 1, "ER": 1}
    assert reception["by_sex"] == {"female": 2, "male": 3, "unknown": 0}
    assert reception["occupancy_rate"] == 0.05


def test_people_in_transit_or_unaccounted_for_count_nowhere(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry, until=4)
    project(database_url)
    assert cells(site_occupancy(conn, "RC-1")) == {("male", "18-59"): 2}
    assert cells(site_occupancy(conn, "CAMP-1")) == {}


def test_a_partial_receipt_counts_only_who_arrived_and_a_late_receipt_adds_the_rest(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=6)
    project(database_url)
    assert cells(site_occupancy(conn, "CAMP-1")) == {("female", "0-4"): 1, ("male", "18-59"): 1}

    registry.receive_transfer(
        transfer_id=people.transfer, site_code="CAMP-1", persons=[people.elder],
        occurred_at=t(7), actor=ACTOR,
    )  # fmt: skip
    project(database_url)
    camp = site_occupancy(conn, "CAMP-1")
    assert camp is not None and camp["total"] == 3 and camp["occupancy_rate"] == 0.75
    assert needs(camp) == {"UM": 1, "ER": 1}


def test_the_full_lifecycle_ends_with_corrected_details_counted_and_leavers_gone(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)

    camp = site_occupancy(conn, "CAMP-1")
    # The father corrected to female; the child's corrected birth date gives 13 at registration.
    assert cells(camp) == {("female", "12-17"): 1, ("female", "18-59"): 1, ("female", "60+"): 1}
    assert needs(camp) == {"UM": 1, "ER": 1, "SM-OT": 1, "SM": 1}
    reception = site_occupancy(conn, "RC-1")
    assert reception is not None and reception["total"] == 0 and needs(reception) == {}
    assert [o["site_code"] for o in all_sites_occupancy(conn)] == ["CAMP-1", "RC-1"]
    assert all_sites_occupancy(conn)[0] == camp


def test_a_correction_while_travelling_counts_at_the_destination_as_corrected(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    (person,) = register(registry, "RC-1", arrival("R-1", estimated_age=40))
    transfer = UUID(
        registry.plan_transfer(
            origin="RC-1", destination="CAMP-1", manifest=[person], occurred_at=t(2), actor=ACTOR
        ).result["transfer_id"]
    )
    registry.dispatch_transfer(transfer_id=transfer, occurred_at=t(3), actor=ACTOR)
    correct(registry, person, "sex", "unknown", t(4))
    correct(registry, person, "estimated_age", 4, t(4))
    correct(registry, person, "specific_needs", ["SC"], t(4))
    registry.receive_transfer(
        transfer_id=transfer, site_code="CAMP-1", persons=[person], occurred_at=t(5), actor=ACTOR
    )
    project(database_url)

    assert cells(site_occupancy(conn, "CAMP-1")) == {("unknown", "0-4"): 1}
    assert needs(site_occupancy(conn, "CAMP-1")) == {"SC": 1}
    assert site_occupancy(conn, "RC-1")["total"] == 0  # type: ignore[index]


def test_needs_are_counted_by_code_and_once_per_person_under_their_category(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    # Partners report by UNHCR category: a malnourished, chronically ill child is one
    # person with a serious medical condition, not two.
    open_sites(registry)
    (child,) = register(registry, "RC-1", arrival("R-1", specific_needs=("SM-MN", "SM-CI")))
    register(registry, "RC-1", arrival("R-2", specific_needs=("SM",)))
    project(database_url)
    assert needs(site_occupancy(conn, "RC-1")) == {"SM": 2, "SM-MN": 1, "SM-CI": 1}

    correct(registry, child, "specific_needs", ["SM-MN", "UM"], t(2))
    project(database_url)
    assert needs(site_occupancy(conn, "RC-1")) == {"SM": 2, "SM-MN": 1, "UM": 1}


def test_the_age_band_is_the_band_at_registration(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    # 17 on the registration day (2025-03-01), 18 the next day.
    register(registry, "RC-1", arrival("R-1", date_of_birth=date(2007, 3, 2), estimated_age=None))
    project(database_url)

    assert cells(site_occupancy(conn, "RC-1")) == {("female", "12-17"): 1}
    (row,) = roster_page(conn, "RC-1", today=date(2025, 3, 2)).rows
    assert row["age_band"] == "18-59"


# --- every read model against the aggregates, after a random history ----------------------


def random_history(registry: Registry, rng: random.Random, steps: int = 200) -> list[UUID]:
    """Random commands on three sites; refused commands are skipped, as a clerk would."""
    open_sites(registry, camp_capacity=40)
    registry.open_site(
        code="CAMP-2", name="Camp 2", kind="camp", capacity=0, occurred_at=t(0), actor=ACTOR
    )
    sites = ["RC-1", "CAMP-1", "CAMP-2"]
    people: list[UUID] = []
    transfers: list[UUID] = []
    clock = 1.0

    def pick(status: PersonStatus) -> UUID:
        found = [p for p in people if registry.get_person(p).status == status]
        return rng.choice(found or people)

    def pick_transfer(*states: str) -> UUID:
        found = [x for x in transfers if registry.get_transfer(x).state.value in states]
        return rng.choice(found or transfers)

    for n in range(steps):
        clock += rng.choice([0, 0, 0.25])  # often several events at the same instant
        when = t(clock)
        action = rng.choice(
            ["register", "register", "hold", "release", "plan", "plan", "dispatch", "receive",
             "receive", "reconcile", "depart", "correct", "correct", "merge"]
        )  # fmt: skip
        try:
            if action == "register" or not people:
                people += register(
                    registry,
                    rng.choice(sites),
                    *[
                        arrival(
                            f"X-{n}-{i}",
                            sex=rng.choice(["female", "male", "unknown"]),
                            estimated_age=rng.randint(0, 90),
                            specific_needs=tuple(rng.sample(["SM-OT", "DS"], rng.randint(0, 2))),
                            occurred_at=when,
                        )
                        for i in range(rng.randint(1, 4))
                    ],
                )
            elif action == "hold":
                registry.hold_person(
                    person_id=pick(PersonStatus.PRESENT), reason="x", occurred_at=when, actor=ACTOR
                )
            elif action == "release":
                registry.release_person(
                    person_id=pick(PersonStatus.HELD), reason="x", occurred_at=when, actor=ACTOR
                )
            elif action == "plan":
                origin, destination = rng.sample(sites, 2)
                here = [
                    p
                    for p in people
                    if (person := registry.get_person(p)).site_code == origin
                    and person.status == PersonStatus.PRESENT
                    and person.transfer_id is None
                ]
                manifest = rng.sample(here, min(len(here), rng.randint(1, 3)))
                transfers.append(
                    UUID(
                        registry.plan_transfer(
                            origin=origin,
                            destination=destination,
                            manifest=manifest,
                            occurred_at=when,
                            actor=ACTOR,
                        ).result["transfer_id"]
                    )
                )
            elif action == "dispatch" and transfers:
                registry.dispatch_transfer(
                    transfer_id=pick_transfer("planned"), occurred_at=when, actor=ACTOR
                )
            elif action == "receive" and transfers:
                transfer = registry.get_transfer(pick_transfer("dispatched", "reconciled"))
                missing = list(transfer.missing)
                registry.receive_transfer(
                    transfer_id=transfer.id,
                    site_code=transfer.destination,
                    persons=rng.sample(missing, rng.randint(1, len(missing))) if missing else [],
                    occurred_at=when,
                    actor=ACTOR,
                )
            elif action == "reconcile" and transfers:
                registry.reconcile_transfer(
                    transfer_id=pick_transfer("dispatched"), occurred_at=when, actor=ACTOR
                )
            elif action == "depart":
                registry.record_departure(
                    person_id=rng.choice(people), reason="returned", occurred_at=when, actor=ACTOR
                )
            elif action == "correct":
                field, value = rng.choice(
                    [
                        ("sex", rng.choice(["female", "male", "unknown"])),
                        ("estimated_age", rng.randint(0, 90)),
                        (
                            "date_of_birth",
                            (date(2025, 3, 1) - timedelta(days=rng.randint(0, 30000))).isoformat(),
                        ),
                        (
                            "specific_needs",
                            rng.sample(
                                ["SM-OT", "DS", "WR"],
                                rng.randint(0, 3),
                            ),
                        ),
                    ]
                )
                correct(registry, rng.choice(people), field, value, when)
            elif action == "merge" and len(people) > 1:
                duplicate, survivor = rng.sample(people, 2)
                registry.merge_persons(
                    duplicate_id=duplicate,
                    survivor_id=survivor,
                    reason="same",
                    occurred_at=when,
                    actor=ACTOR,
                )
        except (DomainError, ValueError):
            pass
    return people


def band_at_registration(person: Person) -> str:
    if person.date_of_birth is not None:
        return age_band(age_on(person.date_of_birth, person.registered_at.date()))
    return age_band(person.estimated_age)


@pytest.mark.parametrize("seed", [1, 2])
def test_after_a_random_history_every_read_model_agrees_with_the_aggregates(
    seed: int, registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = random_history(registry, random.Random(seed))
    project(database_url, batch_size=13)
    persons = [registry.get_person(p) for p in people]
    on_site = [p for p in persons if p.status in (PersonStatus.PRESENT, PersonStatus.HELD)]
    assert on_site, "the random history should leave someone somewhere"

    expected_cells = Counter((p.site_code, p.sex, band_at_registration(p)) for p in on_site)
    expected_needs = Counter(
        (p.site_code, n) for p in on_site for n in with_categories(p.specific_needs)
    )
    for occupancy in all_sites_occupancy(conn):
        site = occupancy["site_code"]
        assert cells(occupancy) == {
            (sex, band): n for (s, sex, band), n in expected_cells.items() if s == site
        }
        assert needs(occupancy) == {need: n for (s, need), n in expected_needs.items() if s == site}
        roster = roster_page(conn, site, limit=1000).rows
        assert {r["person_id"]: r["status"] for r in roster} == {
            p.id: p.status.value for p in on_site if p.site_code == site
        }
        now = {
            r["person_id"]: r["status"]
            for r in roster_as_of(conn, site, t(10_000), limit=1000).rows
        }
        assert now == {p.id: p.status.value for p in on_site if p.site_code == site}
    negative = conn.execute(
        "SELECT (SELECT count(*) FROM read_occupancy.counts WHERE count < 0) + "
        "(SELECT count(*) FROM read_occupancy.needs WHERE count < 0)"
    ).fetchone()
    assert negative == (0,)

    events = envelopes(registry)
    for model in MODELS:
        schema = f"{model.name}_split_{seed}"
        apply_in_batches(database_url, model(schema=schema), events, random.Random(seed))
        assert table_contents(conn, schema) == table_contents(conn, model.live_schema())


def test_batches_split_differently_give_identical_tables(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    events = envelopes(registry)
    for seed in range(3):
        schema = f"occupancy_split_{seed}"
        apply_in_batches(database_url, Occupancy(schema=schema), events, random.Random(seed))
        assert table_contents(conn, schema) == table_contents(conn, Occupancy.live_schema())
