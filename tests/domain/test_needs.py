"""Specific needs are UNHCR's standard codes; the first version's codes keep their meaning."""

from __future__ import annotations

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from campledger.domain.model import errors
from campledger.domain.model.needs import (
    LEGACY_NEEDS,
    SUB_CODES,
    SpecificNeed,
    category_of,
    needs_within,
    parse_specific_needs,
    with_categories,
)
from campledger.domain.model.person import Person
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, events_after, head, person, register


def test_specific_needs_are_deduplicated_sorted_and_upper_case() -> None:
    assert parse_specific_needs(["SM-OT", "ds", " SM-OT "]) == ("DS", "SM-OT")


def test_acute_malnutrition_has_its_code() -> None:
    assert parse_specific_needs(["SM-MN"]) == ("SM-MN",)
    assert category_of("SM-MN") is SpecificNeed.SERIOUS_MEDICAL_CONDITION


@pytest.mark.parametrize("given", ["hungry", "SM-XX", "XX", "SM-", "", "Halima Adam"])
def test_an_unknown_code_is_refused_naming_the_categories_not_the_value(given: str) -> None:
    with pytest.raises(errors.InvalidInput) as info:
        parse_specific_needs([given])
    message = info.value.message
    assert "unknown specific need code" in message and "SM-MN" in message
    assert all(category.value in message for category in SpecificNeed)
    assert "Halima" not in message  # a value typed into the wrong field is never echoed


def test_every_sub_code_belongs_to_one_of_the_twelve_categories() -> None:
    assert len(SpecificNeed) == 12
    for code in SUB_CODES:
        category, detail = code.split("-")
        assert SpecificNeed(category) and len(detail) == 2


def test_the_first_versions_codes_are_still_taken_and_read_as_standard_codes() -> None:
    # A field app not yet updated, or a device's offline queue, may still send them.
    assert parse_specific_needs(["wounded", "Disability", "unaccompanied_child"]) == (
        "DS",
        "SM-OT",
        "UM",
    )
    assert set(LEGACY_NEEDS.values()) <= {n.value for n in SpecificNeed} | set(SUB_CODES)


def test_a_category_filter_finds_its_sub_codes_and_counts_each_person_once() -> None:
    assert needs_within("SM-MN") == ("SM-MN",)
    assert {"SM", "SM-MN", "SM-OT"} <= set(needs_within("SM"))
    assert not any(code.startswith("SV") for code in needs_within("SM"))
    assert with_categories(["SM-MN", "SM-CI", "UM"]) == ["SM", "SM-CI", "SM-MN", "UM"]


def _as_first_version(registry: Registry, position: int, **state: object) -> StoredEvent:
    """The stored event after ``position`` as campledger's first version wrote it: no
    class_version in its state, and the given fields as they were then."""
    [notification] = registry.recorder.select_notifications(start=position + 1, limit=1)
    current = orjson.loads(notification.state)
    current.pop("class_version")
    current.pop("family_tracing", None)  # a v1 correction had none either
    return StoredEvent(
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=orjson.dumps({**current, **state}),
    )


def test_an_arrival_stored_with_the_first_codes_reads_with_standard_codes(
    sites: Registry,
) -> None:
    # The log is never rewritten: an old arrival is upcast on every read (repository,
    # read models, history), all of which go through the mapper.
    before = head(sites)
    register(sites, specific_needs=("SM-OT",))
    old = _as_first_version(
        sites,
        before,
        specific_needs=["wounded", "unaccompanied_child", "survivor_of_violence"],
    )

    read = sites.mapper.to_domain_event(old)

    assert isinstance(read, Person.Registered)
    assert read.specific_needs == ("LP-AN", "SM-OT", "UM")


def test_a_needs_correction_stored_with_the_first_codes_reads_with_standard_codes(
    sites: Registry,
) -> None:
    person_id = register(sites)
    before = head(sites)
    sites.correct_detail(
        person_id=person_id, field="specific_needs", value=["ER"], reason="x", actor=ACTOR
    )
    old = _as_first_version(
        sites, before, new_value=["older_person_at_risk", "pregnant_or_lactating"]
    )

    read = sites.mapper.to_domain_event(old)

    assert isinstance(read, Person.DetailCorrected)
    assert read.new_value == ["ER", "WR"] and read.family_tracing is False


def test_a_correction_of_another_field_is_not_touched_by_the_needs_upcast(
    sites: Registry,
) -> None:
    person_id = register(sites)
    before = head(sites)
    sites.correct_detail(
        person_id=person_id, field="household_id", value="wounded", reason="x", actor=ACTOR
    )
    read = sites.mapper.to_domain_event(_as_first_version(sites, before))
    assert isinstance(read, Person.DetailCorrected) and read.new_value == "wounded"


def test_new_arrivals_record_standard_codes(sites: Registry) -> None:
    before = head(sites)
    person_id = register(sites, specific_needs=("sm-mn", "wounded"))
    [registered] = events_after(sites, before)
    assert registered.specific_needs == ("SM-MN", "SM-OT")
    assert person(sites, person_id).specific_needs == ("SM-MN", "SM-OT")
