"""The households read model: members, where they are, and which families are apart."""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.households import Households, household, separated_households
from campledger.projections.roster import Roster
from tests.projections.lifecycle import (
    ACTOR,
    apply_in_batches,
    arrival,
    conn,
    correct,
    envelopes,
    full_lifecycle,
    open_sites,
    register,
    registry,
    t,
    table_contents,
)

__all__ = ["conn", "registry"]


def project(database_url: str) -> None:
    with Projector(database_url, [Roster, Households]) as projector:
        projector.catch_up()


def family(registry: Registry, household_id: str = "H7") -> tuple[UUID, UUID, UUID]:
    """Mother, son and daughter registered together at RC-1."""
    open_sites(registry, camp_capacity=50)
    mother, son, daughter = register(
        registry,
        "RC-1",
        arrival("F-1", household_id=household_id, relationship="focal_point"),
        arrival("F-2", sex="male", estimated_age=12, household_id=household_id,
                relationship="child"),
        arrival("F-3", estimated_age=8, household_id=household_id, relationship="child"),
    )  # fmt: skip
    return mother, son, daughter


def move(registry: Registry, persons: list[UUID], hour: float, receive: bool = True) -> UUID:
    transfer = UUID(
        registry.plan_transfer(
            origin="RC-1", destination="CAMP-1", manifest=persons, occurred_at=t(hour),
            actor=ACTOR,
        ).result["transfer_id"]
    )  # fmt: skip
    registry.dispatch_transfer(transfer_id=transfer, occurred_at=t(hour + 0.1), actor=ACTOR)
    if receive:
        registry.receive_transfer(
            transfer_id=transfer, site_code="CAMP-1", persons=persons,
            occurred_at=t(hour + 0.2), actor=ACTOR,
        )  # fmt: skip
    return transfer


def summary(conn: psycopg.Connection[Any], household_id: str = "H7") -> dict[str, Any]:
    found = household(conn, household_id)
    assert found is not None
    return found


def test_a_family_together_is_not_separated(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    mother, son, daughter = family(registry)
    project(database_url)
    found = summary(conn)
    assert (found["separated"], found["member_count"], found["sites"]) == (False, 3, ["RC-1"])
    members = found["members"]
    assert [(m["registration_number"], m["relationship"], m["status"]) for m in members] == [
        ("F-1", "focal_point", "present"), ("F-2", "child", "present"),
        ("F-3", "child", "present"),
    ]  # fmt: skip
    # Travelling together on one vehicle is not being apart.
    move(registry, [mother, son, daughter], 2, receive=False)
    project(database_url)
    assert summary(conn)["separated"] is False
    assert separated_households(conn).rows == []


def test_members_at_two_sites_are_separated_until_reunified(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    mother, son, daughter = family(registry)
    move(registry, [mother, daughter], 2)
    project(database_url)
    found = summary(conn)
    assert found["separated"] is True
    assert sorted(found["sites"]) == ["CAMP-1", "RC-1"]
    assert [h["household_id"] for h in separated_households(conn).rows] == ["H7"]
    assert [h["household_id"] for h in separated_households(conn, "RC-1").rows] == ["H7"]
    assert separated_households(conn, "ELSEWHERE").rows == []

    move(registry, [son], 3)
    project(database_url)
    assert summary(conn)["separated"] is False
    assert separated_households(conn).rows == []


def test_a_held_or_unaccounted_member_separates_the_household(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    mother, son, daughter = family(registry)
    registry.hold_person(person_id=son, reason="interview", occurred_at=t(2), actor=ACTOR)
    project(database_url)
    assert summary(conn)["held"] == 1
    assert summary(conn)["separated"] is True
    registry.release_person(person_id=son, reason="cleared", occurred_at=t(3), actor=ACTOR)
    project(database_url)
    assert summary(conn)["separated"] is False

    transfer = move(registry, [mother, son, daughter], 4, receive=False)
    registry.receive_transfer(
        transfer_id=transfer, site_code="CAMP-1", persons=[mother, son],
        occurred_at=t(5), actor=ACTOR,
    )  # fmt: skip
    registry.reconcile_transfer(transfer_id=transfer, occurred_at=t(6), actor=ACTOR)
    project(database_url)
    found = summary(conn)
    # Everyone still with us is at CAMP-1, but the daughter is missing: that is separation.
    assert (found["unaccounted"], found["separated"]) == (1, True)


def test_departed_members_do_not_count_as_apart(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    mother, son, daughter = family(registry)
    registry.record_departure(person_id=son, reason="returned", occurred_at=t(2), actor=ACTOR)
    move(registry, [mother, daughter], 3)
    project(database_url)
    found = summary(conn)
    assert (found["separated"], found["active"], found["sites"]) == (False, 2, ["CAMP-1"])


def test_a_household_correction_moves_the_member_between_households(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    mother, son, daughter = family(registry)
    move(registry, [mother, daughter], 2)
    project(database_url)
    assert summary(conn)["separated"] is True
    # The son was registered under the wrong household: both households are summarised anew.
    correct(registry, son, "household_id", "H8", t(3))
    project(database_url)
    assert summary(conn)["separated"] is False
    assert summary(conn)["member_count"] == 2
    assert summary(conn, "H8")["member_count"] == 1
    assert household(conn, "H-NONE") is None


def test_separated_households_page_by_household_id(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry, camp_capacity=50)
    ids = []
    for n in range(5):
        ids.extend(register(
            registry, "RC-1",
            arrival(f"P-{n}a", household_id=f"H{n}"), arrival(f"P-{n}b", household_id=f"H{n}"),
        )[:1])  # fmt: skip
    move(registry, ids, 2)
    project(database_url)
    first = separated_households(conn, limit=2)
    assert [h["household_id"] for h in first.rows] == ["H0", "H1"]
    assert first.next_cursor is not None
    rest = separated_households(conn, after=first.next_cursor, limit=10)
    assert [h["household_id"] for h in rest.rows] == ["H2", "H3", "H4"]
    assert rest.next_cursor is None
    with pytest.raises(ValueError):
        separated_households(conn, after="H1")  # a bare household id is not a cursor
    with pytest.raises(ValueError):
        separated_households(conn, limit=0)


def test_any_batching_of_the_log_gives_the_same_tables(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    mother, son, _ = register(
        registry, "RC-1", arrival("F-1", household_id="H7", occurred_at=t(11)),
        arrival("F-2", household_id="H7", occurred_at=t(11)), arrival("F-3", household_id="H7",
        occurred_at=t(11)),
    )  # fmt: skip
    registry.hold_person(person_id=son, reason="interview", occurred_at=t(12), actor=ACTOR)
    correct(registry, mother, "household_id", "H1", t(12))
    events = envelopes(registry)
    apply_in_batches(database_url, Households("whole"), events, random.Random(1))
    for seed in (2, 3):
        model = Households(f"batched_{seed}")
        apply_in_batches(database_url, model, events, random.Random(seed))
        assert table_contents(conn, model.schema) == table_contents(conn, "whole")
