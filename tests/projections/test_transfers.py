"""The transfers read model: state, manifest, receipts and who is unaccounted for."""

from __future__ import annotations

import random
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.roster import Roster
from campledger.projections.transfers import (
    Transfers,
    closed_transfers,
    get_transfer,
    list_transfers,
    transfers_in_transit,
    unaccounted_persons,
)
from tests.projections.lifecycle import (
    ACTOR,
    apply_in_batches,
    arrival,
    conn,
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
    # The queries show registration numbers from the roster.
    with Projector(database_url, [Roster, Transfers]) as projector:
        projector.catch_up()


def statuses(conn: psycopg.Connection[Any], transfer: Any) -> dict[Any, str]:
    found = get_transfer(conn, transfer)
    assert found is not None
    return {line["person_id"]: line["status"] for line in found["manifest"]}


def test_a_transfer_moves_from_planned_to_reconciled_with_its_manifest(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=3)
    project(database_url)
    found = get_transfer(conn, people.transfer)
    assert found is not None
    assert (found["state"], found["origin"], found["destination"]) == ("planned", "RC-1", "CAMP-1")
    assert [line["registration_number"] for line in found["manifest"]] == [
        "R-001", "R-002", "R-003",
    ]  # fmt: skip
    assert set(statuses(conn, people.transfer).values()) == {"planned"}
    assert transfers_in_transit(conn).rows == []

    continue_transfer(registry, people, 4, 4)
    project(database_url)
    [moving] = transfers_in_transit(conn).rows
    assert moving["transfer_id"] == people.transfer
    assert moving["dispatched_at"] == t(4)
    assert set(statuses(conn, people.transfer).values()) == {"in_transit"}

    continue_transfer(registry, people, 5, 6)
    project(database_url)
    assert statuses(conn, people.transfer) == {
        people.child: "received", people.father: "received", people.elder: "unaccounted",
    }  # fmt: skip
    found = get_transfer(conn, people.transfer)
    assert found is not None
    assert (found["state"], found["received_count"], found["unaccounted_count"]) == (
        "reconciled", 2, 1,
    )  # fmt: skip
    assert transfers_in_transit(conn).rows == []
    [missing] = unaccounted_persons(conn).rows
    assert (missing["person_id"], missing["registration_number"]) == (people.elder, "R-003")
    assert (missing["origin"], missing["destination"]) == ("RC-1", "CAMP-1")


def continue_transfer(registry: Registry, people: Any, start: int, until: int) -> None:
    """Carry the lifecycle's transfer on, the steps at hours ``start`` to ``until``."""
    if start <= 4 <= until:
        registry.dispatch_transfer(transfer_id=people.transfer, occurred_at=t(4), actor=ACTOR)
    if start <= 5 <= until:
        registry.receive_transfer(
            transfer_id=people.transfer, site_code="CAMP-1",
            persons=[people.child, people.father], occurred_at=t(5), actor=ACTOR,
        )  # fmt: skip
    if start <= 6 <= until:
        registry.reconcile_transfer(transfer_id=people.transfer, occurred_at=t(6), actor=ACTOR)


def test_a_late_check_in_clears_the_unaccounted_list(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    people = full_lifecycle(registry, until=7)
    project(database_url)
    assert unaccounted_persons(conn).rows == []
    assert set(statuses(conn, people.transfer).values()) == {"received"}
    found = get_transfer(conn, people.transfer)
    assert found is not None
    assert (found["received_count"], found["unaccounted_count"]) == (3, 0)


def test_a_cancelled_transfer_frees_its_manifest(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    a, b = register(registry, "RC-1", arrival("R-1"), arrival("R-2"))
    planned = registry.plan_transfer(
        origin="RC-1", destination="CAMP-1", manifest=[a, b], occurred_at=t(2), actor=ACTOR
    ).result["transfer_id"]
    registry.cancel_transfer(transfer_id=planned, reason="road closed", occurred_at=t(3),
                             actor=ACTOR)  # fmt: skip
    project(database_url)
    assert set(statuses(conn, planned).values()) == {"cancelled"}
    [row] = list_transfers(conn, state="cancelled")
    assert row["cancelled_at"] == t(3)
    assert list_transfers(conn, state="planned") == []
    assert list_transfers(conn, site_code="CAMP-1") == [row]
    assert list_transfers(conn, site_code="ELSEWHERE") == []


def test_planned_and_reconciled_transfers_list_latest_first_a_page_at_a_time(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    people = register(registry, "RC-1", *(arrival(f"R-{n}") for n in range(4)))
    planned = [
        registry.plan_transfer(
            origin="RC-1", destination="CAMP-1", manifest=[person], occurred_at=t(hour),
            actor=ACTOR,
        ).result["transfer_id"]
        for hour, person in zip((2, 4, 3), people[:3], strict=True)
    ]  # fmt: skip
    registry.dispatch_transfer(transfer_id=planned[2], occurred_at=t(5), actor=ACTOR)
    registry.reconcile_transfer(transfer_id=planned[2], occurred_at=t(6), actor=ACTOR)
    project(database_url)

    first = closed_transfers(conn, state="planned", limit=1)
    assert [str(r["transfer_id"]) for r in first.rows] == [planned[1]]  # planned at 4, the latest
    assert first.next_cursor is not None
    rest = closed_transfers(conn, state="planned", after=first.next_cursor, limit=5)
    assert [str(r["transfer_id"]) for r in rest.rows] == [planned[0]]
    assert rest.next_cursor is None
    [reconciled] = closed_transfers(conn, state="reconciled").rows
    assert (str(reconciled["transfer_id"]), reconciled["unaccounted_count"]) == (planned[2], 1)
    assert closed_transfers(conn, state="reconciled", within=["ELSEWHERE"]).rows == []
    assert len(closed_transfers(conn, state="planned", within=["CAMP-1"]).rows) == 2

    # A cursor resumes only the list that handed it out; a state outside the list is refused.
    with pytest.raises(ValueError, match="cursor"):
        closed_transfers(conn, state="reconciled", after=first.next_cursor)
    with pytest.raises(ValueError, match="state must be one of"):
        closed_transfers(conn, state="cancelled")


def test_an_unknown_transfer_is_none(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry, until=3)
    project(database_url)
    assert get_transfer(conn, uuid4()) is None


def test_any_batching_of_the_log_gives_the_same_tables(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    events = envelopes(registry)
    whole = Transfers("whole")
    apply_in_batches(database_url, whole, events, random.Random(1))
    for seed in (2, 3):
        model = Transfers(f"batched_{seed}")
        apply_in_batches(database_url, model, events, random.Random(seed))
        assert table_contents(conn, model.schema) == table_contents(conn, "whole")
