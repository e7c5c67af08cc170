"""A read model rebuilt in memory (folded, then written by COPY) holds exactly what the
live path gives, for every event it handles: every correctable field corrected, names
and dates cleared and set, custody, a manifest left, someone missing, an erasure, a site
resized and closed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from campledger.projections.readmodel import ReadModel
from tests.projections.engine_support import (
    ACTOR,
    CAMPS,
    RECEPTION,
    arrivals,
    assert_same_tables,
    conn,
    open_sites,
    projected_from_zero,
    registry,
    snapshot,
)

__all__ = ["conn", "registry"]

FOLDED = [cls for cls in READ_MODELS if cls().fold() is not None]
HOLDING = "HF-1"


def every_kind_of_event(registry: Registry) -> None:
    open_sites(registry)
    registry.open_site(code=HOLDING, name="Holding 1", kind="holding", capacity=1_000, actor=ACTOR)
    registry.change_site_capacity(code=CAMPS[1], capacity=7, actor=ACTOR)
    registry.close_site(code=CAMPS[1], reason="flooded", actor=ACTOR)
    result = registry.register_arrivals(
        site_code=RECEPTION, arrivals=arrivals("F", 0, 40), actor=ACTOR
    )
    people = [UUID(p) for p in result.result["person_ids"]]
    corrections: list[tuple[str, Any]] = [
        ("given_name", "Aminah"), ("family_name", "Haroun Adam"), ("family_name", None),
        ("given_name_latin", "Aminah"), ("family_name_latin", "Haroun"),
        ("date_of_birth", "1990-02-28"), ("estimated_age", 33), ("sex", "male"),
        ("nationality", "SSD"), ("household_id", "F-HX"), ("relationship", "spouse"),
        ("biometric_reference", "F-BIO-X"), ("specific_needs", ["DS", "SM-OT"]),
        ("registration_number", "F-999999"),
    ]  # fmt: skip
    for (field, value), person in zip(corrections, people, strict=False):
        registry.correct_detail(
            person_id=person, field=field, value=value, reason="card", actor=ACTOR
        )
    # A date of birth cleared where an age stands in, and an age cleared where a date does.
    registry.correct_detail(
        person_id=people[0], field="estimated_age", value=40, reason="card", actor=ACTOR
    )
    registry.correct_detail(
        person_id=people[0], field="date_of_birth", value=None, reason="card", actor=ACTOR
    )
    for person in people[20:24]:
        registry.record_screening_step(
            person_id=person, step="security", outcome="held", reason="interview", actor=ACTOR
        )
    registry.record_screening_step(
        person_id=people[24], step="medical", outcome="cleared", actor=ACTOR
    )
    registry.record_screening_step(
        person_id=people[24], step="medical", outcome="cleared", actor=ACTOR
    )
    custody = registry.plan_transfer(
        origin=RECEPTION, destination=HOLDING, manifest=people[20:23], actor=ACTOR
    )
    custody_id = UUID(custody.result["transfer_id"])
    registry.dispatch_transfer(transfer_id=custody_id, actor=ACTOR)
    registry.receive_transfer(
        transfer_id=custody_id, site_code=HOLDING, persons=people[20:23], actor=ACTOR
    )
    registry.release_person(person_id=people[23], reason="cleared", actor=ACTOR)
    cancelled = registry.plan_transfer(
        origin=RECEPTION, destination=CAMPS[0], manifest=people[25:27], actor=ACTOR
    )
    registry.cancel_transfer(
        transfer_id=UUID(cancelled.result["transfer_id"]), reason="no truck", actor=ACTOR
    )
    moved = registry.plan_transfer(
        origin=RECEPTION, destination=CAMPS[0], manifest=people[27:31], actor=ACTOR
    )
    moved_id = UUID(moved.result["transfer_id"])
    registry.dispatch_transfer(transfer_id=moved_id, actor=ACTOR)
    registry.receive_transfer(
        transfer_id=moved_id, site_code=CAMPS[0], persons=people[27:30], actor=ACTOR
    )
    registry.reconcile_transfer(transfer_id=moved_id, actor=ACTOR)
    registry.record_departure(person_id=people[31], reason="resettled", actor=ACTOR)
    # Held at the very instant of registration: the empty stay it would leave is dropped.
    at = registry.get_person(people[35]).registered_at
    registry.hold_person(person_id=people[35], reason="at the gate", occurred_at=at, actor=ACTOR)
    registry.merge_persons(
        duplicate_id=people[32], survivor_id=people[33], reason="same", actor=ACTOR
    )
    for person in (people[1], people[34]):
        registry.erase_personal_data(
            person_id=person, basis="subject_request", order_reference="", actor=ACTOR
        )
    registry.correct_detail(
        person_id=people[34], field="sex", value="female", reason="card", actor=ACTOR
    )


def test_models_that_fold_are_the_ones_rebuilt_that_way() -> None:
    assert "roster" in {cls.name for cls in FOLDED}


def test_a_folded_rebuild_equals_the_live_path_for_every_kind_of_event(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    every_kind_of_event(registry)
    live = projected_from_zero(database_url, FOLDED)
    with Projector(database_url, FOLDED) as projector:
        summary = projector.rebuild()
    assert summary.events == summary.head
    assert_same_tables(snapshot(conn, FOLDED), live)


@pytest.mark.parametrize("model", FOLDED, ids=lambda cls: cls.name)
def test_a_row_the_database_refuses_sends_the_model_back_along_the_live_path(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any],
    model: type[ReadModel], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    every_kind_of_event(registry)
    live = projected_from_zero(database_url, [model])

    def refused(self: Any, cur: psycopg.Cursor[Any]) -> None:
        cur.execute("SELECT 1/0")

    fold_class = type(model().fold())
    monkeypatch.setattr(fold_class, "write", refused)
    with Projector(database_url, [model]) as projector:
        projector.rebuild()
    assert_same_tables(snapshot(conn, [model]), live)
