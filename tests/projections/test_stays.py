"""The stays read model: where each person was, in what status, at any instant of field time."""

from __future__ import annotations

import random
from datetime import timedelta, timezone
from typing import Any
from uuid import UUID

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections.stays import Stays, person_stays, roster_as_of, whereabouts
from tests.projections.lifecycle import (
    ACTOR,
    Lifecycle,
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


def at_site(conn: psycopg.Connection[Any], site: str, hours: float) -> dict[UUID, str]:
    return {
        r["person_id"]: r["status"] for r in roster_as_of(conn, site, t(hours), limit=1000).rows
    }


def history(conn: psycopg.Connection[Any], person: UUID) -> list[tuple[Any, ...]]:
    return [
        (s["site_code"], s["status"], s["since"], s["until"]) for s in person_stays(conn, person)
    ]


@pytest.fixture
def lifecycle(registry: Registry, database_url: str) -> Lifecycle:
    people = full_lifecycle(registry)
    project(database_url)
    return people


def test_each_change_of_site_or_status_closes_one_stay_and_opens_the_next(
    lifecycle: Lifecycle, conn: psycopg.Connection[Any]
) -> None:
    assert history(conn, lifecycle.elder) == [
        ("RC-1", "present", t(1), t(4)),
        (None, "in_transit", t(4), t(6)),
        (None, "unaccounted", t(6), t(7)),
        ("CAMP-1", "present", t(7), None),
    ]
    assert history(conn, lifecycle.held) == [
        ("RC-1", "present", t(1), t(2)),
        ("RC-1", "held", t(2), t(8)),
        ("RC-1", "present", t(8), t(9)),
        (None, "departed", t(9), None),
    ]
    assert history(conn, lifecycle.duplicate) == [
        ("RC-1", "present", t(1), t(11)),
        (None, "merged", t(11), None),
    ]
    # Planning a transfer and correcting details change nothing about where someone is.
    assert history(conn, lifecycle.child) == [
        ("RC-1", "present", t(1), t(4)),
        (None, "in_transit", t(4), t(5)),
        ("CAMP-1", "present", t(5), None),
    ]
    transit = [s for s in person_stays(conn, lifecycle.child) if s["status"] == "in_transit"]
    assert transit[0]["transfer_id"] == lifecycle.transfer


def test_the_roster_as_of_any_instant_is_who_was_there_then(
    lifecycle: Lifecycle, conn: psycopg.Connection[Any]
) -> None:
    everyone = {lifecycle.child, lifecycle.father, lifecycle.elder, lifecycle.held}
    everyone.add(lifecycle.duplicate)
    assert at_site(conn, "RC-1", 0.5) == {}
    assert set(at_site(conn, "RC-1", 1.5)) == everyone
    assert at_site(conn, "RC-1", 3)[lifecycle.held] == "held"
    # Ranges are [from, to): at the dispatch instant the travellers have left.
    assert at_site(conn, "RC-1", 4) == {lifecycle.held: "held", lifecycle.duplicate: "present"}
    assert at_site(conn, "CAMP-1", 4.5) == {}
    assert set(at_site(conn, "CAMP-1", 5.5)) == {lifecycle.child, lifecycle.father}
    assert set(at_site(conn, "CAMP-1", 6.5)) == {lifecycle.child, lifecycle.father}
    assert set(at_site(conn, "CAMP-1", 7)) == {lifecycle.child, lifecycle.father, lifecycle.elder}
    assert at_site(conn, "RC-1", 8.5) == {
        lifecycle.held: "present",
        lifecycle.duplicate: "present",
    }
    assert at_site(conn, "RC-1", 9.5) == {lifecycle.duplicate: "present"}
    assert at_site(conn, "RC-1", 12) == {}


def test_whereabouts_answers_for_any_instant(
    lifecycle: Lifecycle, conn: psycopg.Connection[Any]
) -> None:
    assert whereabouts(conn, lifecycle.elder, t(0.5)) is None
    assert whereabouts(conn, lifecycle.elder, t(1)) == ("RC-1", "present")
    assert whereabouts(conn, lifecycle.elder, t(5)) == (None, "in_transit")
    assert whereabouts(conn, lifecycle.elder, t(6.5)) == (None, "unaccounted")
    assert whereabouts(conn, lifecycle.elder, t(7)) == ("CAMP-1", "present")
    assert whereabouts(conn, lifecycle.held, t(5)) == ("RC-1", "held")
    assert whereabouts(conn, lifecycle.held, t(100)) == (None, "departed")
    assert whereabouts(conn, lifecycle.duplicate, t(11)) == (None, "merged")


def test_the_roster_as_of_pages_by_person_id(
    lifecycle: Lifecycle, conn: psycopg.Connection[Any]
) -> None:
    seen: list[UUID] = []
    after: str | None = None
    while True:
        page = roster_as_of(conn, "RC-1", t(2), after=after, limit=2)
        assert len(page.rows) <= 2
        seen.extend(r["person_id"] for r in page.rows)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 5


def test_a_naive_instant_is_refused(lifecycle: Lifecycle, conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValueError):
        whereabouts(conn, lifecycle.elder, t(1).replace(tzinfo=None))


def test_two_changes_at_the_same_instant_leave_no_empty_stay_and_the_later_wins(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    held_on_arrival, flicker, moved = register(
        registry, "RC-1", arrival("R-1"), arrival("R-2"), arrival("R-3")
    )
    registry.hold_person(person_id=held_on_arrival, reason="x", occurred_at=t(1), actor=ACTOR)
    registry.hold_person(person_id=flicker, reason="x", occurred_at=t(2), actor=ACTOR)
    registry.release_person(person_id=flicker, reason="x", occurred_at=t(2), actor=ACTOR)
    transfer = UUID(
        registry.plan_transfer(
            origin="RC-1", destination="CAMP-1", manifest=[moved], occurred_at=t(3), actor=ACTOR
        ).result["transfer_id"]
    )
    registry.dispatch_transfer(transfer_id=transfer, occurred_at=t(3), actor=ACTOR)
    registry.receive_transfer(
        transfer_id=transfer, site_code="CAMP-1", persons=[moved], occurred_at=t(3), actor=ACTOR
    )
    project(database_url)

    empty = conn.execute("SELECT count(*) FROM read_stays.stays WHERE isempty(period)").fetchone()
    assert empty == (0,)
    assert history(conn, held_on_arrival) == [("RC-1", "held", t(1), None)]
    assert whereabouts(conn, flicker, t(2)) == ("RC-1", "present")
    assert whereabouts(conn, flicker, t(1.5)) == ("RC-1", "present")
    assert history(conn, moved) == [
        ("RC-1", "present", t(1), t(3)),
        ("CAMP-1", "present", t(3), None),
    ]


def test_no_person_is_in_two_places_at_once(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project(database_url)
    overlaps = conn.execute(
        "SELECT count(*) FROM read_stays.stays a JOIN read_stays.stays b "
        "ON a.person_id = b.person_id AND a.seq < b.seq AND a.period && b.period"
    ).fetchone()
    assert overlaps == (0,)
    gaps = conn.execute(
        "SELECT count(*) FROM read_stays.stays a WHERE NOT upper_inf(a.period) AND NOT EXISTS "
        "(SELECT 1 FROM read_stays.stays b WHERE b.person_id = a.person_id "
        "AND lower(b.period) = upper(a.period))"
    ).fetchone()
    assert gaps == (0,)


def test_batches_split_differently_give_identical_tables(
    lifecycle: Lifecycle, registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    events = envelopes(registry)
    for seed in range(3):
        schema = f"stays_split_{seed}"
        apply_in_batches(database_url, Stays(schema=schema), events, random.Random(seed))
        assert table_contents(conn, schema) == table_contents(conn, Stays.live_schema())


def test_times_in_other_zones_mean_the_same_instant(
    lifecycle: Lifecycle, conn: psycopg.Connection[Any]
) -> None:
    khartoum = timezone(timedelta(hours=2))
    assert whereabouts(conn, lifecycle.elder, t(6.5).astimezone(khartoum)) == (None, "unaccounted")
