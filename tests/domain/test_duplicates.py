"""Duplicates: exact matches refused at registration, reviewed pairs dismissed once."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from campledger.domain.model import errors
from campledger.domain.model.duplicates import DuplicatePair, pair_id
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    arrival,
    events_after,
    head,
    person,
    refused,
    register,
)

# --- exact matches at registration ---------------------------------------------------------


def test_a_biometric_match_is_refused_naming_the_existing_person(sites: Registry) -> None:
    existing = register(sites, biometric_reference="BIO-EXACT")
    with refused(sites, errors.DuplicateBiometricReference) as info:
        register(sites, "RC-2", biometric_reference="BIO-EXACT", given_name="Aminah")
    assert info.value.details == {"existing_person": str(existing)}
    assert "BIO-EXACT" not in info.value.message and "Amina" not in info.value.message


def test_a_biometric_match_with_a_merged_record_names_the_survivor(sites: Registry) -> None:
    duplicate = register(sites, biometric_reference="BIO-MERGED")
    survivor = register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.DuplicateBiometricReference) as info:
        register(sites, biometric_reference="BIO-MERGED")
    assert info.value.details["existing_person"] == str(survivor)


def test_a_merged_duplicate_keeps_its_biometric_claim(sites: Registry) -> None:
    # Like its registration number: the value still leads to the merged record.
    duplicate = register(sites, biometric_reference="BIO-KEPT")
    survivor = register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    assert sites.journal.find_claim("biometric_reference", "BIO-KEPT") == duplicate


def test_the_survivor_may_take_over_a_merged_duplicates_biometric(sites: Registry) -> None:
    duplicate = register(sites, biometric_reference="BIO-MOVES")
    survivor = register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)

    sites.correct_detail(
        person_id=survivor,
        field="biometric_reference",
        value="BIO-MOVES",
        reason="enrolled on the duplicate record",
        actor=ACTOR,
    )

    assert sites.journal.find_claim("biometric_reference", "BIO-MOVES") == survivor
    assert person(sites, survivor).biometric_reference == "BIO-MOVES"


def test_a_merged_records_biometric_is_not_free_for_anyone_else(sites: Registry) -> None:
    duplicate = register(sites, biometric_reference="BIO-NOT-YOURS")
    survivor, bystander = register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.DuplicateBiometricReference) as info:
        sites.correct_detail(
            person_id=bystander,
            field="biometric_reference",
            value="BIO-NOT-YOURS",
            reason="typo",
            actor=ACTOR,
        )
    assert info.value.details["existing_person"] == str(survivor)


def test_a_batch_with_a_known_biometric_names_the_existing_person(sites: Registry) -> None:
    existing = register(sites, biometric_reference="BIO-IN-BATCH")
    batch = [arrival(), arrival(biometric_reference="BIO-IN-BATCH")]
    with refused(sites, errors.BatchRejected) as info:
        sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)
    (item,) = info.value.details["items"]
    assert (item["index"], item["existing_person"]) == (1, str(existing))


def test_a_batch_refused_only_for_what_is_recorded_is_a_conflict(sites: Registry) -> None:
    # As each of its items would be alone (409 over HTTP): well formed, but taken.
    taken = register(sites, registration_number="ADR-TAKEN")
    synced = register(sites)  # a device's offline id, already synced
    for batch, expected in (
        (
            [arrival(), arrival(registration_number="ADR-TAKEN")],
            (1, "duplicate-registration-number", taken),
        ),
        ([arrival(person_id=synced), arrival()], (0, "person-already-registered", synced)),
    ):
        with refused(sites, errors.BatchConflict) as info:
            sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)
        assert info.value.kind is errors.ErrorKind.CONFLICT
        assert [
            (i["index"], i["code"], UUID(i["existing_person"])) for i in info.value.details["items"]
        ] == [expected]


def test_a_batch_that_contradicts_itself_or_holds_a_bad_item_is_invalid_not_a_conflict(
    sites: Registry,
) -> None:
    register(sites, registration_number="ADR-HELD-BY-ONE")
    for batch in (
        [arrival(registration_number="ADR-TWICE"), arrival(registration_number="ADR-TWICE")],
        [arrival(registration_number="ADR-HELD-BY-ONE"), arrival(nationality="QQQ")],
    ):
        with refused(sites, errors.BatchRejected) as info:
            sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)
        assert not isinstance(info.value, errors.BatchConflict)
        assert info.value.kind is errors.ErrorKind.INVALID


# --- dismissing a proposed pair --------------------------------------------------------------


def test_dismissing_a_pair_records_it_once_on_its_own_record(sites: Registry) -> None:
    first, second = register(sites), register(sites)
    versions = (person(sites, first).version, person(sites, second).version)
    before = head(sites)

    result = sites.dismiss_duplicate(
        person_id=second, other_id=first, reason="different mothers", actor=ACTOR
    )

    (dismissed,) = events_after(sites, before)
    assert isinstance(dismissed, DuplicatePair.Dismissed)
    low, high = sorted((first, second))
    assert (dismissed.person_id, dismissed.other_id) == (low, high)
    assert dismissed.originator_id == pair_id(first, second) == pair_id(second, first)
    assert (dismissed.reason, dismissed.actor) == ("different mothers", ACTOR)
    assert result.result == {
        "pair_id": str(pair_id(first, second)),
        "person_id": str(low),
        "other_id": str(high),
    }
    # Reviewing a pair is not a change to either person: their ETags stay valid.
    assert (person(sites, first).version, person(sites, second).version) == versions


def test_a_pair_cannot_be_dismissed_twice_in_either_order(sites: Registry) -> None:
    first, second = register(sites), register(sites)
    sites.dismiss_duplicate(person_id=first, other_id=second, reason="twins", actor=ACTOR)
    with refused(sites, errors.DuplicateAlreadyDismissed):
        sites.dismiss_duplicate(person_id=second, other_id=first, reason="again", actor=ACTOR)


def test_a_retried_dismissal_returns_the_first_result(sites: Registry) -> None:
    first, second = register(sites), register(sites)
    once = sites.dismiss_duplicate(
        person_id=first, other_id=second, reason="twins", actor=ACTOR, idempotency_key="k-1"
    )
    again = sites.dismiss_duplicate(
        person_id=first, other_id=second, reason="twins", actor=ACTOR, idempotency_key="k-1"
    )
    assert again.replayed and again.result == once.result


def test_a_dismissal_needs_a_reason(sites: Registry) -> None:
    first, second = register(sites), register(sites)
    with refused(sites, errors.InvalidInput):
        sites.dismiss_duplicate(person_id=first, other_id=second, reason="  ", actor=ACTOR)


def test_a_person_is_not_their_own_duplicate(sites: Registry) -> None:
    first = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.dismiss_duplicate(person_id=first, other_id=first, reason="x", actor=ACTOR)


def test_both_records_of_a_dismissed_pair_must_exist(sites: Registry) -> None:
    first = register(sites)
    with refused(sites, errors.PersonNotFound):
        sites.dismiss_duplicate(person_id=first, other_id=uuid4(), reason="x", actor=ACTOR)


def test_a_merged_record_cannot_be_dismissed_as_a_duplicate(sites: Registry) -> None:
    duplicate, survivor, other = register(sites), register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        sites.dismiss_duplicate(person_id=other, other_id=duplicate, reason="x", actor=ACTOR)


def test_a_dismissal_cannot_be_dated_in_the_future(sites: Registry) -> None:
    first, second = register(sites), register(sites)
    with refused(sites, errors.OccurredInFuture):
        sites.dismiss_duplicate(
            person_id=first,
            other_id=second,
            reason="x",
            occurred_at=FIXED_NOW + timedelta(days=1),
            actor=ACTOR,
        )
