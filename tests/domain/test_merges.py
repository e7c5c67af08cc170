"""Merges: two registrations of one person; the duplicate closes into the survivor."""

from __future__ import annotations

from uuid import uuid4

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import PersonStatus
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    dispatched,
    events_after,
    head,
    person,
    plan,
    refused,
    register,
)


def test_merging_records_both_sides_together(sites: Registry) -> None:
    duplicate = register(sites, registration_number="REG-DUPE")
    survivor = register(sites, "RC-2")
    before = head(sites)

    result = sites.merge_persons(
        duplicate_id=duplicate, survivor_id=survivor, reason="same fingerprints", actor=ACTOR
    )

    merged, absorbed = events_after(sites, before)
    assert isinstance(merged, Person.MergedInto)
    assert (merged.originator_id, merged.survivor_id) == (duplicate, survivor)
    assert isinstance(absorbed, Person.DuplicateMerged)
    assert absorbed.originator_id == survivor
    assert (absorbed.duplicate_id, absorbed.duplicate_registration_number) == (
        duplicate,
        "REG-DUPE",
    )
    assert result.result == {"duplicate_id": str(duplicate), "survivor_id": str(survivor)}
    closed = person(sites, duplicate)
    assert (closed.status, closed.merged_into, closed.site_code) == (
        PersonStatus.MERGED,
        survivor,
        None,
    )
    assert person(sites, survivor).status == PersonStatus.PRESENT
    assert person(sites, survivor).site_code == "RC-2"


def test_a_merged_duplicates_registration_number_stays_taken(sites: Registry) -> None:
    duplicate = register(sites, registration_number="REG-M")
    sites.merge_persons(
        duplicate_id=duplicate, survivor_id=register(sites), reason="same", actor=ACTOR
    )
    with refused(sites, errors.DuplicateRegistrationNumber):
        register(sites, registration_number="REG-M")


def test_a_person_cannot_be_merged_into_themselves(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.merge_persons(duplicate_id=person_id, survivor_id=person_id, reason="x", actor=ACTOR)


def test_a_merge_needs_a_reason(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    with refused(sites, errors.InvalidInput):
        sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason=" ", actor=ACTOR)


def test_a_merged_record_cannot_be_merged_again(sites: Registry) -> None:
    duplicate, survivor, other = register(sites), register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        sites.merge_persons(duplicate_id=duplicate, survivor_id=other, reason="same", actor=ACTOR)


def test_nobody_can_be_merged_into_a_merged_record(sites: Registry) -> None:
    duplicate, survivor, other = register(sites), register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        sites.merge_persons(duplicate_id=other, survivor_id=duplicate, reason="same", actor=ACTOR)


def test_nobody_can_be_merged_into_a_departed_record(sites: Registry) -> None:
    departed, other = register(sites), register(sites)
    sites.record_departure(person_id=departed, reason="resettled", actor=ACTOR)
    with refused(sites, errors.PersonDeparted):
        sites.merge_persons(duplicate_id=other, survivor_id=departed, reason="same", actor=ACTOR)


def test_a_departed_duplicate_cannot_be_merged(sites: Registry) -> None:
    departed, other = register(sites), register(sites)
    sites.record_departure(person_id=departed, reason="resettled", actor=ACTOR)
    with refused(sites, errors.PersonDeparted):
        sites.merge_persons(duplicate_id=departed, survivor_id=other, reason="same", actor=ACTOR)


def test_a_duplicate_on_a_manifest_cannot_be_merged(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    plan(sites, [duplicate])
    with refused(sites, errors.PersonOnAnotherManifest):
        sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="x", actor=ACTOR)


def test_a_duplicate_in_transit_cannot_be_merged(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    dispatched(sites, [duplicate])
    with refused(sites, errors.PersonInTransit):
        sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="x", actor=ACTOR)


def test_a_survivor_in_transit_may_absorb_a_duplicate(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    dispatched(sites, [survivor])
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="x", actor=ACTOR)
    assert person(sites, survivor).status == PersonStatus.IN_TRANSIT


def test_merging_an_unknown_person_is_refused(sites: Registry) -> None:
    known = register(sites)
    with refused(sites, errors.PersonNotFound):
        sites.merge_persons(duplicate_id=uuid4(), survivor_id=known, reason="x", actor=ACTOR)
    with refused(sites, errors.PersonNotFound):
        sites.merge_persons(duplicate_id=known, survivor_id=uuid4(), reason="x", actor=ACTOR)


def test_a_merged_record_refuses_every_further_change(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        sites.record_screening_step(
            person_id=duplicate, step="medical", outcome="cleared", actor=ACTOR
        )
    with refused(sites, errors.PersonMerged):
        sites.hold_person(person_id=duplicate, reason="x", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        sites.release_person(person_id=duplicate, reason="x", actor=ACTOR)
