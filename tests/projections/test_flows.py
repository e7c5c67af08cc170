"""The flows read model: movement per site per day in field time."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from campledger.domain.model.person import Person
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.flows import Flows, daily_flows
from tests.projections.lifecycle import (
    apply_in_batches,
    conn,
    envelopes,
    full_lifecycle,
    registry,
    t,
    table_contents,
)

__all__ = ["conn", "registry"]

DAY = t(0).date()


def project_flows(database_url: str) -> None:
    with Projector(database_url, [Flows]) as projector:
        projector.catch_up()


def test_arrivals_transfers_and_departures_are_counted_per_site_and_day(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project_flows(database_url)
    rows = {r["site_code"]: r for r in daily_flows(conn, None, DAY, DAY)}
    # Five arrive at the reception; three leave on the transfer; one departs (resettled).
    assert rows["RC-1"] == {
        "site_code": "RC-1", "day": DAY, "arrivals": 5, "transfers_in": 0,
        "transfers_out": 3, "departures": 1,
    }  # fmt: skip
    # Two checked in at once, the third (unaccounted for at first) later the same day.
    assert rows["CAMP-1"]["transfers_in"] == 3
    assert rows["CAMP-1"]["arrivals"] == 0


def test_flows_use_field_time_not_recorded_time(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project_flows(database_url)
    # The scenario happened in the past (field time); nothing is counted for today.
    today = date.today()
    assert today != DAY
    assert daily_flows(conn, None, today, today) == []


def test_one_site_and_a_range_of_days(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project_flows(database_url)
    rows = daily_flows(conn, "CAMP-1", DAY - timedelta(days=3), DAY + timedelta(days=3))
    assert [r["site_code"] for r in rows] == ["CAMP-1"]
    with pytest.raises(ValueError, match="before its start"):
        daily_flows(conn, None, DAY, DAY - timedelta(days=1))


def test_batches_split_differently_give_identical_tables(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    events = envelopes(registry)
    project_flows(database_url)
    whole = table_contents(conn, Flows.live_schema())
    split = Flows(schema="flows_split")
    apply_in_batches(database_url, split, events, random.Random(7))
    assert table_contents(conn, "flows_split") == whole
    assert whole["slots"]


MOVES = (Person.Registered, Person.TransferDispatched, Person.TransferReceived, Person.Departed)


@pytest.mark.parametrize(
    "zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kathmandu"]
)
def test_a_day_is_a_day_of_the_operation_time_zone(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any], zone: str
) -> None:
    full_lifecycle(registry)
    project_flows(database_url)
    moments = [e.event.occurred_at for e in envelopes(registry) if isinstance(e.event, MOVES)]
    wide = (DAY - timedelta(days=2), DAY + timedelta(days=2))
    rows = daily_flows(conn, None, *wide, zone=zone)
    # Each movement lands on the day its field time has in that zone, and none is lost
    # or counted twice whatever the zone (Kathmandu is UTC+5:45: quarter-hours matter).
    assert {r["day"] for r in rows} == {m.astimezone(ZoneInfo(zone)).date() for m in moments}
    counted = sum(
        r[c] for r in rows for c in ("arrivals", "transfers_in", "transfers_out", "departures")
    )
    assert counted == len(moments)
