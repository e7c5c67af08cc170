"""The holds register read model: follows each hold through a custody transfer to its end."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.holds import Holds, held_counts, holds_page
from campledger.projections.roster import Roster
from tests.projections.lifecycle import (
    ACTOR,
    TODAY,
    apply_in_batches,
    arrival,
    conn,
    envelopes,
    open_sites,
    register,
    registry,
    t,
    table_contents,
)

__all__ = ["conn", "registry"]  # fixtures

pytestmark = pytest.mark.postgres

ORDER = {"authority": "Governor of Ouaddaï", "order_reference": "GOV-OUA-114"}


def project(database_url: str) -> None:
    with Projector(database_url, [Roster, Holds], batch_size=3) as projector:
        projector.catch_up()


def custody_story(registry: Registry) -> dict[str, UUID]:
    """Four held men: two reach the holding facility (one then released), one goes
    missing on the way, one is still at the reception point; a fifth is never held."""
    open_sites(registry)
    registry.open_site(code="HF-1", name="Holding", kind="holding", capacity=50,
                       occurred_at=t(0), actor=ACTOR)  # fmt: skip
    kept, released, missing, waiting, free = register(
        registry, "RC-1", *(arrival(f"R-{n}", sex="male") for n in range(5))
    )
    for n, man in enumerate((kept, released, missing, waiting)):
        registry.record_screening_step(
            person_id=man, step="security", outcome="held", occurred_at=t(2 + n / 10),
            review_date=(t(2) + timedelta(days=n)).date(), actor=ACTOR, **ORDER,
        )  # fmt: skip
    transfer = UUID(
        registry.plan_transfer(
            origin="RC-1", destination="HF-1", manifest=[kept, released, missing, free],
            occurred_at=t(3), actor=ACTOR,
        ).result["transfer_id"]
    )  # fmt: skip
    registry.dispatch_transfer(transfer_id=transfer, occurred_at=t(4), actor=ACTOR)
    registry.receive_transfer(transfer_id=transfer, site_code="HF-1", persons=[kept, released,
                              free], occurred_at=t(5), actor=ACTOR)  # fmt: skip
    registry.reconcile_transfer(transfer_id=transfer, occurred_at=t(6), actor=ACTOR)
    registry.release_person(person_id=released, reason="review", occurred_at=t(7), actor=ACTOR,
                            **ORDER)  # fmt: skip
    return {"kept": kept, "missing": missing, "waiting": waiting, "transfer": transfer}


def test_a_hold_follows_the_person_to_the_holding_facility_until_released(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    story = custody_story(registry)
    project(database_url)

    page = holds_page(conn, today=TODAY)
    rows = {r["person_id"]: r for r in page.rows}
    assert set(rows) == {story["kept"], story["missing"], story["waiting"]}
    kept = rows[story["kept"]]
    assert (kept["status"], kept["site_code"], kept["held_at_site"]) == ("held", "HF-1", "RC-1")
    assert (kept["authority"], kept["order_reference"]) == tuple(ORDER.values())
    assert kept["held_since"] == t(2) and kept["days_held"] == 1
    lost = rows[story["missing"]]
    assert (lost["status"], lost["site_code"], lost["transfer_id"]) == (
        "unaccounted", None, story["transfer"],
    )  # fmt: skip
    # Reviews due on day 0, 2 and 3 after the holds: on TODAY (day 1) only the first is past.
    assert [r["overdue"] for r in page.rows] == [True, False, False]
    assert [r["person_id"] for r in holds_page(conn, overdue=True, today=TODAY).rows] == [
        story["kept"]
    ]
    # A site sees what is held there, and what travelled from or to it.
    at_facility = holds_page(conn, sites=["HF-1"], today=TODAY).rows
    assert {r["person_id"] for r in at_facility} == {story["kept"], story["missing"]}
    assert held_counts(conn) == {"HF-1": 1, "RC-1": 1}
    assert "given_name" not in kept
    named = holds_page(conn, include_personal=True, today=TODAY).rows[0]
    assert named["given_name"] == "Amina"


def test_pages_follow_one_another_with_the_cursor(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    custody_story(registry)
    project(database_url)
    whole = [r["person_id"] for r in holds_page(conn, today=TODAY).rows]
    first = holds_page(conn, limit=2, today=TODAY)
    rest = holds_page(conn, limit=2, after=first.next_cursor, today=TODAY)
    assert [r["person_id"] for r in first.rows + rest.rows] == whole
    assert rest.next_cursor is None
    with pytest.raises(ValueError, match="cursor"):
        holds_page(conn, after="not-a-cursor")


def test_any_split_into_batches_gives_the_same_register(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    custody_story(registry)
    project(database_url)
    events = envelopes(registry)
    for seed in range(3):
        schema = f"holds_split_{seed}"
        apply_in_batches(database_url, Holds(schema=schema), events, random.Random(seed))
        assert table_contents(conn, schema) == table_contents(conn, Holds.live_schema())
