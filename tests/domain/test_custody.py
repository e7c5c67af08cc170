"""Custody transfers and holds as facts: a held person moves held, or not at all.

Given events → when command → then events (or the error, with nothing written). The
custody rule: a held person may be placed on a manifest to a holding facility or a
hospital; they travel held and arrive held. Anywhere else is refused until released.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.transfer import Transfer
from campledger.domain.model.values import PersonStatus
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    events_after,
    head,
    names,
    open_site,
    person,
    plan,
    refused,
    register,
    transfer,
)

ORDER = {"authority": "Governor of Ouaddaï", "order_reference": "GOV-OUA-2025-114"}


@pytest.fixture
def custody(sites: Registry) -> Registry:
    """Given the reception sites and camp, a holding facility HF-1 and a hospital HOS-1."""
    open_site(sites, "HF-1", kind="holding")
    open_site(sites, "HOS-1", kind="hospital")
    return sites


def held(registry: Registry, site_code: str = "RC-1", **order: Any) -> UUID:
    """Given a person registered at a site and held there on an order."""
    person_id = register(registry, site_code)
    registry.hold_person(
        person_id=person_id, reason="security interview", actor=ACTOR, **(order or ORDER)
    )
    return person_id


# --- holds as facts -------------------------------------------------------------------------


def test_a_hold_records_the_authority_order_reference_and_review_date(sites: Registry) -> None:
    person_id = register(sites)
    before = head(sites)

    sites.hold_person(
        person_id=person_id,
        reason="security interview",
        review_date=date(2025, 3, 15),
        actor=ACTOR,
        **ORDER,
    )

    [event] = events_after(sites, before)
    assert isinstance(event, Person.Held)
    assert (event.authority, event.order_reference) == (ORDER["authority"], "GOV-OUA-2025-114")
    assert event.review_date == date(2025, 3, 15)
    held_person = person(sites, person_id)
    assert held_person.held and held_person.status == PersonStatus.HELD
    assert held_person.hold_order_reference == "GOV-OUA-2025-114"


def test_a_held_screening_outcome_is_a_hold_on_the_order_given(sites: Registry) -> None:
    person_id = register(sites)
    before = head(sites)

    sites.record_screening_step(
        person_id=person_id, step="security", outcome="held", actor=ACTOR, **ORDER
    )

    [event] = events_after(sites, before)
    assert isinstance(event, Person.ScreeningStepRecorded)
    assert (event.outcome, event.authority) == ("held", ORDER["authority"])
    assert person(sites, person_id).held_since == FIXED_NOW


def test_an_order_on_a_cleared_outcome_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.record_screening_step(
            person_id=person_id, step="security", outcome="cleared", actor=ACTOR, **ORDER
        )


def test_a_review_date_before_the_hold_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.hold_person(
            person_id=person_id,
            reason="x",
            review_date=FIXED_NOW.date() - timedelta(days=1),
            actor=ACTOR,
            **ORDER,
        )


def test_a_release_records_the_authority_and_order_and_ends_the_hold(sites: Registry) -> None:
    person_id = held(sites)
    before = head(sites)

    sites.release_person(
        person_id=person_id,
        reason="cleared by review",
        authority="Prosecutor, Abéché",
        order_reference="PRO-ABE-77",
        actor=ACTOR,
    )

    [event] = events_after(sites, before)
    assert isinstance(event, Person.Released)
    assert (event.authority, event.order_reference) == ("Prosecutor, Abéché", "PRO-ABE-77")
    released = person(sites, person_id)
    assert not released.held and released.status == PersonStatus.PRESENT
    assert released.hold_order_reference == "" and released.held_since is None


@pytest.mark.parametrize(
    ("event_class", "old_fields", "empty"),
    [
        (Person.Held, ("authority", "order_reference", "review_date"), ("", "", None)),
        (Person.Released, ("authority", "order_reference"), ("", "")),
    ],
)
def test_holds_and_releases_stored_before_orders_read_with_empty_orders(
    sites: Registry, event_class: type, old_fields: tuple[str, ...], empty: tuple[Any, ...]
) -> None:
    # The log is a published contract: a v1 hold (no order, no class_version) is upcast on
    # read, never rewritten.
    person_id = held(sites)
    if event_class is Person.Released:
        sites.release_person(person_id=person_id, reason="x", actor=ACTOR, **ORDER)
    [notification] = sites.recorder.select_notifications(start=head(sites), limit=1)
    state = orjson.loads(notification.state)
    assert state.pop("class_version") == 2
    for name in old_fields:
        state.pop(name)
    v1 = StoredEvent(
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=orjson.dumps(state),
    )

    read = sites.mapper.to_domain_event(v1)

    assert isinstance(read, event_class)
    assert tuple(getattr(read, name) for name in old_fields) == empty


def test_a_manifest_stored_before_custody_reads_with_nobody_in_custody(sites: Registry) -> None:
    before = head(sites)
    plan(sites, [register(sites)])
    notification = sites.recorder.select_notifications(start=before + 2, limit=1)[0]
    state = orjson.loads(notification.state)
    assert state.pop("class_version") == 2 and state.pop("custody") == []

    read = sites.mapper.to_domain_event(
        StoredEvent(notification.originator_id, 1, notification.topic, orjson.dumps(state))
    )

    assert isinstance(read, Transfer.Planned) and read.custody == ()


# --- custody transfers --------------------------------------------------------------------


def test_a_held_person_is_placed_on_a_manifest_to_a_holding_facility_in_custody(
    custody: Registry,
) -> None:
    prisoner, free = held(custody), register(custody)
    before = head(custody)

    transfer_id = plan(custody, [prisoner, free], destination="HF-1", order_reference="MOV-9")

    written = events_after(custody, before)
    assert names(written) == ["Transfer.Planned"] + ["Person.PlacedOnManifest"] * 2
    assert written[0].custody == (prisoner,)
    assert [e.in_custody for e in written[1:]] == [True, False]
    assert transfer(custody, transfer_id).custody == {prisoner}


def test_a_held_person_may_go_to_a_hospital_in_custody(custody: Registry) -> None:
    prisoner = held(custody)
    transfer_id = plan(custody, [prisoner], destination="HOS-1")
    assert transfer(custody, transfer_id).custody == {prisoner}


@pytest.mark.parametrize("destination", ["CAMP-1", "RC-2"])
def test_a_held_person_cannot_be_moved_anywhere_else(custody: Registry, destination: str) -> None:
    others, prisoner = register(custody), held(custody)
    with refused(custody, errors.PersonHeld) as info:
        plan(custody, [others, prisoner], destination=destination)
    assert info.value.details == {"person": str(prisoner), "site": destination}
    assert "release" in info.value.message
    assert person(custody, others).transfer_id is None


def test_a_held_person_travels_held_and_arrives_held(custody: Registry) -> None:
    prisoner = held(custody)
    transfer_id = plan(custody, [prisoner], destination="HF-1")
    before = head(custody)

    custody.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)
    in_transit = person(custody, prisoner)
    custody.receive_transfer(
        transfer_id=transfer_id, site_code="HF-1", persons=[prisoner], actor=ACTOR
    )

    written = events_after(custody, before)
    assert names(written) == [
        "Transfer.Dispatched",
        "Person.TransferDispatched",
        "Transfer.Received",
        "Transfer.Reconciled",
        "Person.TransferReceived",
    ]
    assert written[1].in_custody and written[4].in_custody
    assert in_transit.held and in_transit.status == PersonStatus.IN_TRANSIT
    arrived = person(custody, prisoner)
    assert (arrived.status, arrived.site_code, arrived.held) == (PersonStatus.HELD, "HF-1", True)
    # The hold travelled unchanged: same order, same start.
    assert arrived.hold_order_reference == ORDER["order_reference"]
    assert arrived.held_since == in_transit.held_since


def test_a_person_held_in_transit_cannot_be_released_until_received(custody: Registry) -> None:
    prisoner = held(custody)
    custody.dispatch_transfer(
        transfer_id=plan(custody, [prisoner], destination="HF-1"), actor=ACTOR
    )
    with refused(custody, errors.PersonInTransit):
        custody.release_person(person_id=prisoner, reason="x", actor=ACTOR, **ORDER)


def test_a_held_person_missing_at_receipt_is_unaccounted_for_and_still_held(
    custody: Registry,
) -> None:
    present, missing = held(custody), held(custody)
    transfer_id = plan(custody, [present, missing], destination="HF-1")
    custody.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)
    custody.receive_transfer(
        transfer_id=transfer_id, site_code="HF-1", persons=[present], actor=ACTOR
    )

    result = custody.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)

    assert result.result["unaccounted_for"] == [str(missing)]
    lost = person(custody, missing)
    assert lost.status == PersonStatus.UNACCOUNTED and lost.held


def test_a_person_held_after_planning_to_a_camp_stops_the_dispatch(custody: Registry) -> None:
    manifest = [register(custody), register(custody)]
    transfer_id = plan(custody, manifest)
    custody.hold_person(person_id=manifest[1], reason="x", actor=ACTOR, **ORDER)

    with refused(custody, errors.PersonHeld):
        custody.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)


def test_a_person_held_after_planning_to_a_holding_facility_needs_a_new_manifest(
    custody: Registry,
) -> None:
    manifest = [held(custody), register(custody)]
    transfer_id = plan(custody, manifest, destination="HF-1")
    custody.hold_person(person_id=manifest[1], reason="x", actor=ACTOR, **ORDER)

    with refused(custody, errors.CustodyChanged) as info:
        custody.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)
    assert info.value.details["person"] == str(manifest[1])


def test_a_person_released_after_planning_in_custody_needs_a_new_manifest(
    custody: Registry,
) -> None:
    prisoner = held(custody)
    transfer_id = plan(custody, [prisoner], destination="HF-1")
    custody.release_person(person_id=prisoner, reason="cleared", actor=ACTOR, **ORDER)

    with refused(custody, errors.CustodyChanged):
        custody.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)
