"""Transfers: planned, dispatched, received (in part), reconciled or cancelled.

The transfer and every person on its manifest are saved together: any refusal, on any
person, writes nothing at all.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.transfer import MAX_MANIFEST, Transfer
from campledger.domain.model.values import PersonStatus, TransferState
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    dispatched,
    events_after,
    head,
    names,
    person,
    plan,
    refused,
    register,
    transfer,
)


def register_many(registry: Registry, count: int, site_code: str = "RC-1") -> list[UUID]:
    return [register(registry, site_code) for _ in range(count)]


# --- planning -------------------------------------------------------------------------


def test_planning_a_transfer_reserves_everyone_on_its_manifest(sites: Registry) -> None:
    manifest = register_many(sites, 3)
    before = head(sites)

    transfer_id = plan(sites, manifest, vehicle="Truck 7", order_reference="MOV-12")

    written = events_after(sites, before)
    assert names(written) == ["Transfer.Planned"] + ["Person.PlacedOnManifest"] * 3
    planned = written[0]
    assert isinstance(planned, Transfer.Planned)
    assert (planned.origin, planned.destination) == ("RC-1", "CAMP-1")
    assert planned.manifest == tuple(manifest)
    assert (planned.vehicle, planned.order_reference) == ("Truck 7", "MOV-12")
    assert all(e.transfer_id == transfer_id for e in written[1:])
    assert transfer(sites, transfer_id).state == TransferState.PLANNED
    for person_id in manifest:
        assert person(sites, person_id).transfer_id == transfer_id
        assert person(sites, person_id).status == PersonStatus.PRESENT


def test_a_transfer_may_be_planned_with_a_client_chosen_id(sites: Registry) -> None:
    chosen = uuid4()
    assert plan(sites, [register(sites)], transfer_id=chosen) == chosen


def test_a_client_chosen_id_already_taken_is_refused_as_taken_not_as_a_race(
    sites: Registry,
) -> None:
    chosen = plan(sites, [register(sites)], transfer_id=uuid4())
    a_person = register(sites)
    traveller = register(sites)
    for taken in (chosen, a_person):  # a transfer's id, or any other record's
        with refused(sites, errors.TransferIdTaken) as info:
            plan(sites, [traveller], transfer_id=taken)
        assert info.value.details == {"transfer": str(taken)}


def test_a_person_on_a_manifest_cannot_be_planned_on_a_second_transfer(sites: Registry) -> None:
    person_id = register(sites)
    first = plan(sites, [person_id])
    with refused(sites, errors.PersonOnAnotherManifest) as info:
        plan(sites, [person_id], destination="RC-2")
    assert info.value.details["transfer"] == str(first)


def test_a_failure_on_the_nth_person_plans_nothing(sites: Registry) -> None:
    manifest = register_many(sites, 5)
    sites.hold_person(person_id=manifest[3], reason="interview", actor=ACTOR)

    with refused(sites, errors.PersonHeld):
        plan(sites, manifest)

    assert all(person(sites, p).transfer_id is None for p in manifest)


def test_a_person_at_another_site_cannot_be_planned_from_the_origin(sites: Registry) -> None:
    here, elsewhere = register(sites, "RC-1"), register(sites, "RC-2")
    with refused(sites, errors.PersonNotAtSite) as info:
        plan(sites, [here, elsewhere])
    assert info.value.details == {"person": str(elsewhere), "site": "RC-1"}


def test_a_held_person_cannot_be_planned(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_screening_step(person_id=person_id, step="security", outcome="held", actor=ACTOR)
    with refused(sites, errors.PersonHeld):
        plan(sites, [person_id])


def test_a_person_in_transit_cannot_be_planned(sites: Registry) -> None:
    person_id = register(sites)
    dispatched(sites, [person_id])
    with refused(sites, errors.PersonInTransit):
        plan(sites, [person_id], origin="CAMP-1", destination="RC-2")


def test_a_person_unaccounted_for_cannot_be_planned(sites: Registry) -> None:
    person_id = register(sites)
    sites.reconcile_transfer(transfer_id=dispatched(sites, [person_id]), actor=ACTOR)
    with refused(sites, errors.PersonUnaccountedFor):
        plan(sites, [person_id])


def test_a_departed_person_cannot_be_planned(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_departure(person_id=person_id, reason="returned", actor=ACTOR)
    with refused(sites, errors.PersonDeparted):
        plan(sites, [person_id])


def test_a_merged_person_cannot_be_planned(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        plan(sites, [duplicate])


def test_an_unknown_person_cannot_be_planned(sites: Registry) -> None:
    known = register(sites)
    with refused(sites, errors.PersonNotFound):
        plan(sites, [known, uuid4()])


def test_a_transfer_to_an_unknown_site_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.SiteNotFound):
        plan(sites, [person_id], destination="NOWHERE")


@pytest.mark.parametrize(
    "case", ["same-site", "empty", "listed-twice", "long-vehicle", "long-order-reference"]
)
def test_an_invalid_plan_is_refused(sites: Registry, case: str) -> None:
    person_id = register(sites)
    kwargs: dict[str, object] = {}
    manifest = [person_id]
    destination = "CAMP-1"
    if case == "same-site":
        destination = "RC-1"
    elif case == "empty":
        manifest = []
    elif case == "listed-twice":
        manifest = [person_id, person_id]
    elif case == "long-vehicle":
        kwargs["vehicle"] = "v" * 101
    else:
        kwargs["order_reference"] = "o" * 101
    with refused(sites, errors.InvalidInput):
        plan(sites, manifest, destination=destination, **kwargs)


def test_a_manifest_longer_than_1000_is_refused(sites: Registry) -> None:
    with refused(sites, errors.BatchTooLarge):
        plan(sites, [uuid4() for _ in range(MAX_MANIFEST + 1)])


# --- dispatch -------------------------------------------------------------------------


def test_dispatching_puts_everyone_on_the_manifest_in_transit(sites: Registry) -> None:
    manifest = register_many(sites, 2)
    transfer_id = plan(sites, manifest)
    before = head(sites)

    sites.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)

    written = events_after(sites, before)
    assert names(written) == ["Transfer.Dispatched"] + ["Person.TransferDispatched"] * 2
    moved = written[1]
    assert isinstance(moved, Person.TransferDispatched)
    assert (moved.origin, moved.destination, moved.transfer_id) == ("RC-1", "CAMP-1", transfer_id)
    assert transfer(sites, transfer_id).state == TransferState.DISPATCHED
    for person_id in manifest:
        travelling = person(sites, person_id)
        assert travelling.status == PersonStatus.IN_TRANSIT
        assert travelling.site_code is None
        assert travelling.transfer_id == transfer_id


def test_a_transfer_cannot_be_dispatched_twice(sites: Registry) -> None:
    transfer_id = dispatched(sites, [register(sites)])
    with refused(sites, errors.TransferStateInvalid):
        sites.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)


def test_a_failure_on_the_nth_person_dispatches_nothing(sites: Registry) -> None:
    manifest = register_many(sites, 4)
    transfer_id = plan(sites, manifest)
    sites.hold_person(person_id=manifest[2], reason="interview", actor=ACTOR)

    with refused(sites, errors.PersonHeld):
        sites.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)

    assert transfer(sites, transfer_id).state == TransferState.PLANNED
    assert all(person(sites, p).status != PersonStatus.IN_TRANSIT for p in manifest)


def test_an_unknown_transfer_cannot_be_dispatched(sites: Registry) -> None:
    with refused(sites, errors.TransferNotFound):
        sites.dispatch_transfer(transfer_id=uuid4(), actor=ACTOR)


def test_a_person_id_is_not_a_transfer_id(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.TransferNotFound):
        sites.dispatch_transfer(transfer_id=person_id, actor=ACTOR)


# --- receipt and reconciliation -------------------------------------------------------


def test_receiving_everyone_reconciles_the_transfer(sites: Registry) -> None:
    manifest = register_many(sites, 2)
    transfer_id = dispatched(sites, manifest)
    before = head(sites)

    result = sites.receive_transfer(
        transfer_id=transfer_id, site_code="CAMP-1", persons=manifest, actor=ACTOR
    )

    assert names(events_after(sites, before)) == [
        "Transfer.Received",
        "Transfer.Reconciled",
        "Person.TransferReceived",
        "Person.TransferReceived",
    ]
    assert result.result == {
        "transfer_id": str(transfer_id),
        "state": "reconciled",
        "missing": [],
    }
    assert transfer(sites, transfer_id).unaccounted_for == set()
    for person_id in manifest:
        arrived = person(sites, person_id)
        assert (arrived.status, arrived.site_code) == (PersonStatus.PRESENT, "CAMP-1")
        assert arrived.transfer_id is None


def test_a_partial_receipt_leaves_the_transfer_dispatched_with_the_missing_listed(
    sites: Registry,
) -> None:
    manifest = register_many(sites, 3)
    transfer_id = dispatched(sites, manifest)
    before = head(sites)

    result = sites.receive_transfer(
        transfer_id=transfer_id, site_code="CAMP-1", persons=[manifest[1]], actor=ACTOR
    )

    written = events_after(sites, before)
    assert names(written) == ["Transfer.Received", "Person.TransferReceived"]
    assert written[0].persons == (manifest[1],)
    assert result.result["state"] == "dispatched"
    assert result.result["missing"] == [str(manifest[0]), str(manifest[2])]
    assert person(sites, manifest[0]).status == PersonStatus.IN_TRANSIT


def test_reconciling_marks_whoever_was_not_received_unaccounted_for(sites: Registry) -> None:
    manifest = register_many(sites, 3)
    transfer_id = dispatched(sites, manifest)
    sites.receive_transfer(
        transfer_id=transfer_id, site_code="CAMP-1", persons=[manifest[0]], actor=ACTOR
    )
    before = head(sites)

    result = sites.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)

    written = events_after(sites, before)
    assert names(written) == ["Transfer.Reconciled"] + ["Person.MarkedUnaccountedFor"] * 2
    assert written[0].unaccounted_for == (manifest[1], manifest[2])
    assert result.result["unaccounted_for"] == [str(manifest[1]), str(manifest[2])]
    assert transfer(sites, transfer_id).state == TransferState.RECONCILED
    assert person(sites, manifest[1]).status == PersonStatus.UNACCOUNTED
    assert person(sites, manifest[0]).status == PersonStatus.PRESENT


def test_a_late_receipt_after_reconciliation_accounts_for_the_person(sites: Registry) -> None:
    manifest = register_many(sites, 2)
    transfer_id = dispatched(sites, manifest)
    sites.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)
    before = head(sites)

    result = sites.receive_transfer(
        transfer_id=transfer_id, site_code="CAMP-1", persons=[manifest[1]], actor=ACTOR
    )

    assert names(events_after(sites, before)) == ["Transfer.Received", "Person.TransferReceived"]
    assert result.result["state"] == "reconciled"
    assert transfer(sites, transfer_id).unaccounted_for == {manifest[0]}
    found = person(sites, manifest[1])
    assert (found.status, found.site_code) == (PersonStatus.PRESENT, "CAMP-1")
    assert person(sites, manifest[0]).status == PersonStatus.UNACCOUNTED


def test_a_transfer_cannot_be_reconciled_twice(sites: Registry) -> None:
    transfer_id = dispatched(sites, [register(sites)])
    sites.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)
    with refused(sites, errors.TransferStateInvalid):
        sites.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)


def test_a_planned_transfer_cannot_be_received_or_reconciled(sites: Registry) -> None:
    person_id = register(sites)
    transfer_id = plan(sites, [person_id])
    with refused(sites, errors.TransferStateInvalid):
        sites.receive_transfer(
            transfer_id=transfer_id, site_code="CAMP-1", persons=[person_id], actor=ACTOR
        )
    with refused(sites, errors.TransferStateInvalid):
        sites.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)


def test_receiving_at_the_wrong_site_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    transfer_id = dispatched(sites, [person_id])
    with refused(sites, errors.WrongReceivingSite):
        sites.receive_transfer(
            transfer_id=transfer_id, site_code="RC-2", persons=[person_id], actor=ACTOR
        )


def test_receiving_at_a_closed_destination_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    transfer_id = dispatched(sites, [person_id])
    sites.close_site(code="CAMP-1", actor=ACTOR)
    with refused(sites, errors.SiteClosed):
        sites.receive_transfer(
            transfer_id=transfer_id, site_code="CAMP-1", persons=[person_id], actor=ACTOR
        )


def test_receiving_a_person_not_on_the_manifest_is_refused(sites: Registry) -> None:
    on_board, stranger = register(sites), register(sites)
    transfer_id = dispatched(sites, [on_board])
    with refused(sites, errors.PersonNotOnManifest) as info:
        sites.receive_transfer(
            transfer_id=transfer_id, site_code="CAMP-1", persons=[on_board, stranger], actor=ACTOR
        )
    assert info.value.details["person"] == str(stranger)
    assert person(sites, on_board).status == PersonStatus.IN_TRANSIT


def test_receiving_a_person_already_received_is_refused(sites: Registry) -> None:
    manifest = register_many(sites, 2)
    transfer_id = dispatched(sites, manifest)
    sites.receive_transfer(
        transfer_id=transfer_id, site_code="CAMP-1", persons=[manifest[0]], actor=ACTOR
    )
    with refused(sites, errors.PersonAlreadyReceived):
        sites.receive_transfer(
            transfer_id=transfer_id, site_code="CAMP-1", persons=manifest, actor=ACTOR
        )


def test_a_received_person_cannot_be_received_late_after_reconciliation(sites: Registry) -> None:
    manifest = register_many(sites, 2)
    transfer_id = dispatched(sites, manifest)
    sites.receive_transfer(
        transfer_id=transfer_id, site_code="CAMP-1", persons=[manifest[0]], actor=ACTOR
    )
    sites.reconcile_transfer(transfer_id=transfer_id, actor=ACTOR)
    with refused(sites, errors.PersonAlreadyReceived):
        sites.receive_transfer(
            transfer_id=transfer_id, site_code="CAMP-1", persons=[manifest[0]], actor=ACTOR
        )


@pytest.mark.parametrize("case", ["nobody", "listed-twice"])
def test_an_invalid_receipt_is_refused(sites: Registry, case: str) -> None:
    person_id = register(sites)
    transfer_id = dispatched(sites, [person_id])
    persons = [] if case == "nobody" else [person_id, person_id]
    with refused(sites, errors.InvalidInput):
        sites.receive_transfer(
            transfer_id=transfer_id, site_code="CAMP-1", persons=persons, actor=ACTOR
        )


def test_reconciliation_never_moves_a_persons_clock_back(sites: Registry) -> None:
    person_id = register(sites)
    transfer_id = dispatched(sites, [person_id])
    dispatched_at = person(sites, person_id).last_occurred_at

    sites.reconcile_transfer(
        transfer_id=transfer_id, occurred_at=dispatched_at - timedelta(hours=3), actor=ACTOR
    )

    assert person(sites, person_id).last_occurred_at == dispatched_at


def test_reconciling_with_a_naive_time_is_refused(sites: Registry) -> None:
    transfer_id = dispatched(sites, [register(sites)])
    with refused(sites, errors.InvalidOccurredAt):
        sites.reconcile_transfer(
            transfer_id=transfer_id, occurred_at=FIXED_NOW.replace(tzinfo=None), actor=ACTOR
        )


# --- cancellation -----------------------------------------------------------------------


def test_cancelling_a_planned_transfer_frees_everyone_on_its_manifest(sites: Registry) -> None:
    manifest = register_many(sites, 2)
    transfer_id = plan(sites, manifest)
    before = head(sites)

    sites.cancel_transfer(transfer_id=transfer_id, reason="road closed", actor=ACTOR)

    written = events_after(sites, before)
    assert names(written) == ["Transfer.Cancelled"] + ["Person.RemovedFromManifest"] * 2
    assert written[0].reason == "road closed"
    assert transfer(sites, transfer_id).state == TransferState.CANCELLED
    assert all(person(sites, p).transfer_id is None for p in manifest)
    plan(sites, manifest, destination="RC-2")


def test_a_dispatched_transfer_cannot_be_cancelled(sites: Registry) -> None:
    transfer_id = dispatched(sites, [register(sites)])
    with refused(sites, errors.TransferStateInvalid):
        sites.cancel_transfer(transfer_id=transfer_id, reason="too late", actor=ACTOR)


def test_a_cancelled_transfer_cannot_be_dispatched_or_cancelled_again(sites: Registry) -> None:
    transfer_id = plan(sites, [register(sites)])
    sites.cancel_transfer(transfer_id=transfer_id, reason="road closed", actor=ACTOR)
    with refused(sites, errors.TransferStateInvalid):
        sites.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)
    with refused(sites, errors.TransferStateInvalid):
        sites.cancel_transfer(transfer_id=transfer_id, reason="again", actor=ACTOR)


def test_cancelling_needs_a_reason(sites: Registry) -> None:
    transfer_id = plan(sites, [register(sites)])
    with refused(sites, errors.InvalidInput):
        sites.cancel_transfer(transfer_id=transfer_id, reason="", actor=ACTOR)
