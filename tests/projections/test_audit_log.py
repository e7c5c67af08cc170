"""The audit log read model: one row per event, queryable, free of personal data."""

from __future__ import annotations

import random
from typing import Any

import psycopg

from campledger.domain.service.registry import Registry
from campledger.projections.audit_log import AuditLog, action_of, audit_entries
from campledger.projections.engine import Projector
from tests.projections.lifecycle import (
    ACTOR,
    apply_in_batches,
    conn,
    envelopes,
    full_lifecycle,
    registry,
    t,
    table_contents,
)

__all__ = ["conn", "registry"]


def project_audit(database_url: str) -> int:
    with Projector(database_url, [AuditLog]) as projector:
        return projector.catch_up()


def test_every_event_has_exactly_one_entry(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    head = project_audit(database_url)
    positions = [e.position for e in audit_entries(conn, limit=10_000)]
    assert positions == list(range(1, head + 1))


def test_entries_name_actor_action_subject_site_and_order(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    cast = full_lifecycle(registry)
    project_audit(database_url)
    history = audit_entries(conn, subject_id=cast.elder)
    assert [e.action for e in history] == [
        "person.registered",
        "person.placed_on_manifest",
        "person.transfer_dispatched",
        "person.marked_unaccounted_for",
        "person.transfer_received",
        "person.detail_corrected",
    ]
    assert {e.actor for e in history} == {ACTOR}
    registered, placed, _dispatched, missing, received, corrected = history
    assert registered.site_code == "RC-1"
    assert placed.transfer_id == cast.transfer and placed.site_code == "RC-1"
    assert missing.transfer_id == cast.transfer
    assert received.site_code == "CAMP-1"
    assert corrected.detail == "field=specific_needs"
    assert registered.occurred_at == t(1)
    assert registered.recorded_at > registered.occurred_at  # synced long after the field


def test_site_and_transfer_events_carry_their_site_and_order_reference(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    registry.change_site_capacity(code="CAMP-1", capacity=10, reason="new tents", actor=ACTOR)
    project_audit(database_url)
    changed = audit_entries(conn, action="site.capacity_changed")
    assert [(e.site_code, e.detail, e.reason) for e in changed] == [
        ("CAMP-1", "capacity=10", "new tents")
    ]
    transfer_entries = audit_entries(conn, action="transfer.reconciled")
    assert transfer_entries[0].site_code == "RC-1"
    assert transfer_entries[0].detail == "unaccounted_for=1"


def test_queries_by_actor_site_and_time_range_page_by_position(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    registry.open_site(code="H-1", name="Hospital", kind="hospital", capacity=5, actor="admin-2")
    project_audit(database_url)
    assert [e.action for e in audit_entries(conn, actor="admin-2")] == ["site.opened"]
    at_camp = audit_entries(conn, site_code="CAMP-1")
    assert at_camp and all(e.site_code == "CAMP-1" for e in at_camp)
    window = audit_entries(conn, occurred_from=t(5), occurred_to=t(6))
    assert window and all(t(5) <= e.occurred_at < t(6) for e in window)  # type: ignore[operator]
    first = audit_entries(conn, limit=3)
    second = audit_entries(conn, limit=3, after_position=first[-1].position)
    assert [e.position for e in first + second] == list(range(1, 7))


def test_no_personal_data_enters_the_audit_schema(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    project_audit(database_url)
    dump = repr(table_contents(conn, AuditLog.live_schema()))
    for personal in ("Amina", "Haroun", "BIO-1", "2021-06-01", "2012-01-15"):
        assert personal not in dump


def test_action_names_come_from_the_event_class() -> None:
    from campledger.domain.model.person import Person
    from campledger.domain.model.site import Site

    assert action_of(Person.ScreeningStepRecorded) == ("person", "person.screening_step_recorded")
    assert action_of(Site.CapacityChanged) == ("site", "site.capacity_changed")


def test_batches_split_differently_give_identical_tables(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    full_lifecycle(registry)
    events = envelopes(registry)
    project_audit(database_url)
    whole = table_contents(conn, AuditLog.live_schema())
    split = AuditLog(schema="audit_split")
    apply_in_batches(database_url, split, events, random.Random(3))
    assert table_contents(conn, "audit_split") == whole
