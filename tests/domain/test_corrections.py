"""Corrections: a later event fixes a mistaken detail; the original stays in history."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from campledger.domain.model import errors
from campledger.domain.model.corrections import CORRECTABLE
from campledger.domain.model.person import Person
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    dispatched,
    events_after,
    head,
    person,
    refused,
    register,
)

# field -> (value given, value the person holds afterwards)
VALID_CORRECTIONS: dict[str, tuple[Any, Any]] = {
    "registration_number": (" REG-NEW.1 ", "REG-NEW.1"),
    "given_name": (" Fatima ", "Fatima"),
    "family_name": ("", None),
    "given_name_latin": (" Mohamed ", "Mohamed"),
    "family_name_latin": ("Kılıç", "Kılıç"),
    "sex": ("unknown", "unknown"),
    "date_of_birth": ("2010-06-30", date(2010, 6, 30)),
    "estimated_age": (14, 14),
    "nationality": ("ssd", "SSD"),
    "household_id": ("HH-9", "HH-9"),
    "relationship": ("spouse", "spouse"),
    "biometric_reference": ("BIO-NEW", "BIO-NEW"),
    "specific_needs": (["SM-OT", "DS"], ("DS", "SM-OT")),
}


def test_every_correctable_field_has_a_test() -> None:
    assert set(VALID_CORRECTIONS) == set(CORRECTABLE)


@pytest.mark.parametrize(("field", "case"), VALID_CORRECTIONS.items(), ids=list(VALID_CORRECTIONS))
def test_a_correction_records_detail_corrected_and_changes_the_field(
    sites: Registry, field: str, case: tuple[Any, Any]
) -> None:
    given, expected = case
    person_id = register(sites)
    before = head(sites)

    result = sites.correct_detail(
        person_id=person_id, field=field, value=given, reason="entry error", actor=ACTOR
    )

    [corrected] = events_after(sites, before)
    assert isinstance(corrected, Person.DetailCorrected)
    assert (corrected.field, corrected.reason, corrected.actor) == (field, "entry error", ACTOR)
    assert getattr(person(sites, person_id), field) == expected
    assert result.result == {"person_id": str(person_id), "version": 2}


def test_a_date_of_birth_correction_is_stored_as_iso_text(sites: Registry) -> None:
    person_id = register(sites)
    before = head(sites)
    sites.correct_detail(
        person_id=person_id,
        field="date_of_birth",
        value=date(2001, 2, 3),
        reason="id card",
        actor=ACTOR,
    )
    [corrected] = events_after(sites, before)
    assert corrected.new_value == "2001-02-03"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("registration_number", "has space", errors.InvalidInput),
        ("registration_number", "", errors.InvalidInput),
        ("given_name", "", errors.InvalidInput),
        ("given_name", None, errors.InvalidInput),
        ("given_name", 42, errors.InvalidInput),
        ("family_name", 42, errors.InvalidInput),
        ("given_name_latin", "محمد", errors.InvalidInput),
        ("family_name_latin", 42, errors.InvalidInput),
        ("sex", "x", errors.InvalidSex),
        ("date_of_birth", "30/06/2010", errors.InvalidAge),
        ("date_of_birth", "2025-03-02", errors.InvalidAge),
        ("date_of_birth", "1880-01-01", errors.InvalidAge),
        ("estimated_age", 131, errors.InvalidAge),
        ("estimated_age", -1, errors.InvalidAge),
        ("estimated_age", "14", errors.InvalidAge),
        ("estimated_age", True, errors.InvalidAge),
        ("nationality", "XYZ", errors.InvalidNationality),
        ("household_id", 7, errors.InvalidInput),
        ("relationship", "friend", errors.InvalidInput),
        ("biometric_reference", "B" * 129, errors.InvalidInput),
        ("specific_needs", "SM-OT", errors.InvalidInput),
        ("specific_needs", ["hungry"], errors.InvalidInput),
        ("status", "departed", errors.InvalidInput),
        ("site_code", "CAMP-1", errors.InvalidInput),
    ],
)
def test_an_invalid_correction_is_refused(
    sites: Registry, field: str, value: Any, error: type[errors.DomainError]
) -> None:
    person_id = register(sites)
    with refused(sites, error):
        sites.correct_detail(
            person_id=person_id, field=field, value=value, reason="fix", actor=ACTOR
        )


def test_a_correction_needs_a_reason(sites: Registry) -> None:
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.correct_detail(person_id=person_id, field="sex", value="male", reason="", actor=ACTOR)


def test_the_last_known_age_cannot_be_removed(sites: Registry) -> None:
    person_id = register(sites, estimated_age=30, date_of_birth=None)
    with refused(sites, errors.InvalidAge):
        sites.correct_detail(
            person_id=person_id, field="estimated_age", value=None, reason="fix", actor=ACTOR
        )


def test_an_estimated_age_can_be_removed_once_the_date_of_birth_is_known(
    sites: Registry,
) -> None:
    person_id = register(sites, estimated_age=30, date_of_birth=None)
    sites.correct_detail(
        person_id=person_id, field="date_of_birth", value="1995-01-01", reason="id", actor=ACTOR
    )
    sites.correct_detail(
        person_id=person_id, field="estimated_age", value=None, reason="id", actor=ACTOR
    )
    assert person(sites, person_id).estimated_age is None
    with refused(sites, errors.InvalidAge):
        sites.correct_detail(
            person_id=person_id, field="date_of_birth", value=None, reason="fix", actor=ACTOR
        )


def test_the_original_value_stays_in_history(sites: Registry) -> None:
    person_id = register(sites, given_name="Amina")
    sites.correct_detail(
        person_id=person_id, field="given_name", value="Aminah", reason="spelling", actor=ACTOR
    )
    assert person(sites, person_id).given_name == "Aminah"
    original = sites.repository.get(person_id, version=1)
    assert isinstance(original, Person)
    assert original.given_name == "Amina"


def test_correcting_a_registration_number_frees_the_old_one_and_claims_the_new(
    sites: Registry,
) -> None:
    person_id = register(sites, registration_number="REG-TYPO")
    sites.correct_detail(
        person_id=person_id,
        field="registration_number",
        value="REG-RIGHT",
        reason="typo",
        actor=ACTOR,
    )

    assert sites.journal.find_claim("registration_number", "REG-TYPO") is None
    assert sites.journal.find_claim("registration_number", "REG-RIGHT") == person_id
    with refused(sites, errors.DuplicateRegistrationNumber):
        register(sites, registration_number="REG-RIGHT")
    newcomer = register(sites, registration_number="REG-TYPO")
    assert sites.journal.find_claim("registration_number", "REG-TYPO") == newcomer


def test_a_registration_number_cannot_be_corrected_to_another_persons(sites: Registry) -> None:
    holder = register(sites, registration_number="REG-TAKEN")
    person_id = register(sites, registration_number="REG-MINE")
    with refused(sites, errors.DuplicateRegistrationNumber) as info:
        sites.correct_detail(
            person_id=person_id,
            field="registration_number",
            value="REG-TAKEN",
            reason="typo",
            actor=ACTOR,
        )
    assert info.value.details["existing_person"] == str(holder)
    assert sites.journal.find_claim("registration_number", "REG-MINE") == person_id


def test_a_registration_number_can_be_corrected_to_itself(sites: Registry) -> None:
    person_id = register(sites, registration_number="REG-SAME")
    sites.correct_detail(
        person_id=person_id,
        field="registration_number",
        value="REG-SAME",
        reason="recheck",
        actor=ACTOR,
    )
    assert sites.journal.find_claim("registration_number", "REG-SAME") == person_id


def test_correcting_a_biometric_reference_moves_its_claim(sites: Registry) -> None:
    person_id = register(sites, biometric_reference="BIO-A")
    sites.correct_detail(
        person_id=person_id,
        field="biometric_reference",
        value="BIO-B",
        reason="rescan",
        actor=ACTOR,
    )
    assert sites.journal.find_claim("biometric_reference", "BIO-A") is None
    assert sites.journal.find_claim("biometric_reference", "BIO-B") == person_id


def test_removing_a_biometric_reference_frees_it(sites: Registry) -> None:
    person_id = register(sites, biometric_reference="BIO-GONE")
    sites.correct_detail(
        person_id=person_id,
        field="biometric_reference",
        value=None,
        reason="wrong scan",
        actor=ACTOR,
    )
    assert person(sites, person_id).biometric_reference is None
    register(sites, biometric_reference="BIO-GONE")


def test_a_biometric_reference_cannot_be_corrected_to_another_persons(sites: Registry) -> None:
    register(sites, biometric_reference="BIO-TAKEN")
    person_id = register(sites)
    with refused(sites, errors.DuplicateBiometricReference):
        sites.correct_detail(
            person_id=person_id,
            field="biometric_reference",
            value="BIO-TAKEN",
            reason="rescan",
            actor=ACTOR,
        )


def test_a_merged_person_cannot_be_corrected(sites: Registry) -> None:
    duplicate, survivor = register(sites), register(sites)
    sites.merge_persons(duplicate_id=duplicate, survivor_id=survivor, reason="same", actor=ACTOR)
    with refused(sites, errors.PersonMerged):
        sites.correct_detail(
            person_id=duplicate, field="sex", value="male", reason="fix", actor=ACTOR
        )


def test_a_person_in_transit_can_be_corrected(sites: Registry) -> None:
    person_id = register(sites)
    dispatched(sites, [person_id])
    sites.correct_detail(
        person_id=person_id, field="nationality", value="ERI", reason="papers", actor=ACTOR
    )
    assert person(sites, person_id).nationality == "ERI"


def test_corrections_are_checked_against_the_arrival_rules(sites: Registry) -> None:
    # The same limits apply whether a value comes with the arrival or with a correction.
    with refused(sites, errors.InvalidInput):
        register(sites, given_name="x" * 201)
    person_id = register(sites)
    with refused(sites, errors.InvalidInput):
        sites.correct_detail(
            person_id=person_id, field="given_name", value="x" * 201, reason="fix", actor=ACTOR
        )


# --- family tracing: joining a household on purpose ------------------------------------


def test_a_household_joined_as_family_tracing_is_recorded_as_such(sites: Registry) -> None:
    person_id = register(sites)
    before = head(sites)

    sites.correct_detail(
        person_id=person_id,
        field="household_id",
        value="HH-TRACED",
        reason="mother found at another camp",
        actor=ACTOR,
        family_tracing=True,
    )

    [corrected] = events_after(sites, before)
    assert isinstance(corrected, Person.DetailCorrected)
    assert (corrected.field, corrected.new_value) == ("household_id", "HH-TRACED")
    assert corrected.family_tracing is True and corrected.actor == ACTOR
    assert person(sites, person_id).household_id == "HH-TRACED"


def test_an_ordinary_correction_is_recorded_as_not_family_tracing(sites: Registry) -> None:
    person_id = register(sites)
    before = head(sites)
    sites.correct_detail(
        person_id=person_id, field="household_id", value="HH-1", reason="typo", actor=ACTOR
    )
    [corrected] = events_after(sites, before)
    assert corrected.family_tracing is False


@pytest.mark.parametrize(("field", "value"), [("estimated_age", 31), ("household_id", None)])
def test_family_tracing_is_refused_for_anything_but_setting_a_household(
    sites: Registry, field: str, value: Any
) -> None:
    person_id = register(sites, household_id="HH-1")
    with refused(sites, errors.InvalidInput):
        sites.correct_detail(
            person_id=person_id,
            field=field,
            value=value,
            reason="x",
            actor=ACTOR,
            family_tracing=True,
        )


def test_a_correction_stored_before_family_tracing_existed_reads_as_not_traced(
    sites: Registry,
) -> None:
    # The log is a published contract: a v1 correction (no family_tracing, no
    # class_version in its state) is upcast on read, never rewritten.
    person_id = register(sites)
    before = head(sites)
    sites.correct_detail(
        person_id=person_id, field="household_id", value="HH-OLD", reason="x", actor=ACTOR
    )
    [notification] = sites.recorder.select_notifications(start=before + 1, limit=1)
    state = orjson.loads(notification.state)
    assert state.pop("class_version") == 3 and state.pop("family_tracing") is False
    v1 = StoredEvent(
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=orjson.dumps(state),
    )

    read = sites.mapper.to_domain_event(v1)

    assert isinstance(read, Person.DetailCorrected)
    assert read.family_tracing is False and read.new_value == "HH-OLD"
