"""Arrivals: one person or a truckload registered at a site, all or nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from campledger.domain.commands import MAX_BATCH
from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import PersonStatus
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    REGISTERED_AT,
    arrival,
    events_after,
    head,
    names,
    person,
    refused,
    register,
)


def test_an_arrival_registers_a_present_person_at_the_site(sites: Registry) -> None:
    given = arrival(
        registration_number=" REG-A/1 ",
        given_name=" Amina ",
        nationality="sdn",
        date_of_birth=date(2020, 5, 1),
        estimated_age=None,
        household_id="HH-1",
        relationship="child",
        biometric_reference="BIO-1",
        specific_needs=("SM-OT", "DS", "SM-OT"),
    )

    result = sites.register_arrival(site_code="RC-1", arrival=given, actor=ACTOR)

    [registered] = events_after(sites, result.position - 1)
    assert isinstance(registered, Person.Registered)
    assert registered.registration_number == "REG-A/1"
    assert registered.given_name == "Amina"
    assert registered.nationality == "SDN"
    assert registered.date_of_birth == date(2020, 5, 1)
    assert registered.relationship == "child"
    assert registered.specific_needs == ("DS", "SM-OT")
    assert (registered.site_code, registered.actor) == ("RC-1", ACTOR)
    assert registered.occurred_at == REGISTERED_AT
    registered_person = person(sites, UUID(result.result["person_id"]))
    assert registered_person.status == PersonStatus.PRESENT
    assert registered_person.site_code == "RC-1"
    assert registered_person.transfer_id is None


def test_an_arrival_without_a_time_happened_now(sites: Registry) -> None:
    person_id = register(sites, occurred_at=None)
    assert person(sites, person_id).registered_at == FIXED_NOW


def test_an_offline_device_may_mint_the_persons_id(sites: Registry) -> None:
    minted = uuid4()
    assert register(sites, person_id=minted) == minted


def test_an_arrival_claims_its_registration_number_and_biometric_reference(
    sites: Registry,
) -> None:
    person_id = register(sites, registration_number="REG-C", biometric_reference="BIO-C")
    assert sites.journal.find_claim("registration_number", "REG-C") == person_id
    assert sites.journal.find_claim("biometric_reference", "BIO-C") == person_id


def test_an_arrival_at_an_unknown_site_is_refused(sites: Registry) -> None:
    with refused(sites, errors.SiteNotFound):
        sites.register_arrival(site_code="NOWHERE", arrival=arrival(), actor=ACTOR)


INVALID_ARRIVALS: list[tuple[dict[str, Any], type[errors.DomainError]]] = [
    ({"registration_number": ""}, errors.InvalidInput),
    ({"registration_number": "REG 1"}, errors.InvalidInput),
    ({"registration_number": "R" * 65}, errors.InvalidInput),
    ({"given_name": "  "}, errors.InvalidInput),
    ({"given_name": "A" * 201}, errors.InvalidInput),
    ({"family_name": "B" * 201}, errors.InvalidInput),
    ({"given_name_latin": "Muhammad محمد"}, errors.InvalidInput),
    ({"family_name_latin": "Мухаммад"}, errors.InvalidInput),
    ({"family_name_latin": "Osman2"}, errors.InvalidInput),
    ({"sex": "f"}, errors.InvalidSex),
    ({"nationality": "SUDAN"}, errors.InvalidNationality),
    ({"nationality": "QQQ"}, errors.InvalidNationality),
    ({"estimated_age": None, "date_of_birth": None}, errors.InvalidAge),
    ({"estimated_age": 131}, errors.InvalidAge),
    ({"estimated_age": -1}, errors.InvalidAge),
    ({"date_of_birth": date(2025, 3, 2)}, errors.InvalidAge),
    ({"date_of_birth": date(1890, 1, 1)}, errors.InvalidAge),
    ({"relationship": "cousin"}, errors.InvalidInput),
    ({"specific_needs": ("tired",)}, errors.InvalidInput),
    ({"household_id": "H" * 129}, errors.InvalidInput),
    ({"biometric_reference": "B" * 129}, errors.InvalidInput),
    ({"occurred_at": FIXED_NOW + timedelta(minutes=6)}, errors.OccurredInFuture),
    ({"occurred_at": FIXED_NOW.replace(tzinfo=None)}, errors.InvalidOccurredAt),
]


@pytest.mark.parametrize(
    ("override", "error"), INVALID_ARRIVALS, ids=[str(next(iter(o))) for o, _ in INVALID_ARRIVALS]
)
def test_an_invalid_arrival_is_refused(
    sites: Registry, override: dict[str, Any], error: type[errors.DomainError]
) -> None:
    with refused(sites, error):
        sites.register_arrival(site_code="RC-1", arrival=arrival(**override), actor=ACTOR)


def test_a_registration_number_already_held_is_refused(sites: Registry) -> None:
    existing = register(sites, registration_number="REG-DUP")
    with refused(sites, errors.DuplicateRegistrationNumber) as info:
        register(sites, registration_number="REG-DUP")
    assert info.value.details["existing_person"] == str(existing)
    assert info.value.kind == errors.ErrorKind.CONFLICT


def test_a_biometric_reference_already_held_is_refused(sites: Registry) -> None:
    existing = register(sites, biometric_reference="BIO-DUP")
    with refused(sites, errors.DuplicateBiometricReference) as info:
        register(sites, biometric_reference="BIO-DUP")
    assert info.value.details["existing_person"] == str(existing)


def test_persons_without_biometric_reference_do_not_clash(sites: Registry) -> None:
    register(sites, biometric_reference=None)
    register(sites, biometric_reference="  ")
    register(sites, biometric_reference=None)


# --- batches ------------------------------------------------------------------------


def test_a_batch_of_500_arrivals_is_registered_in_one_call(sites: Registry) -> None:
    before = head(sites)

    result = sites.register_arrivals(
        site_code="RC-1", arrivals=[arrival() for _ in range(500)], actor=ACTOR
    )

    written = events_after(sites, before)
    assert names(written) == ["Person.Registered"] * 500
    assert len(result.result["person_ids"]) == 500
    assert [str(e.originator_id) for e in written] == result.result["person_ids"]
    assert result.position == before + 500


def test_a_batch_of_the_maximum_size_is_accepted(sites: Registry) -> None:
    result = sites.register_arrivals(
        site_code="RC-1", arrivals=[arrival() for _ in range(MAX_BATCH)], actor=ACTOR
    )
    assert len(result.result["person_ids"]) == MAX_BATCH


def test_a_batch_of_500_with_one_invalid_arrival_writes_nothing_and_names_it(
    sites: Registry,
) -> None:
    batch = [arrival() for _ in range(500)]
    batch[317] = arrival(nationality="NOPE")

    with refused(sites, errors.BatchRejected) as info:
        sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)

    [item] = info.value.details["items"]
    assert item["index"] == 317
    assert item["code"] == "invalid-nationality"
    assert sites.journal.find_claim("registration_number", batch[0].registration_number) is None


def test_a_refused_batch_names_every_bad_item_in_order(sites: Registry) -> None:
    batch = [arrival() for _ in range(10)]
    batch[7] = arrival(sex="x")
    batch[2] = arrival(estimated_age=None)

    with refused(sites, errors.BatchRejected) as info:
        sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)

    items = info.value.details["items"]
    assert [(i["index"], i["code"]) for i in items] == [(2, "invalid-age"), (7, "invalid-sex")]


def test_a_batch_larger_than_1000_is_refused(sites: Registry) -> None:
    with refused(sites, errors.BatchTooLarge):
        sites.register_arrivals(
            site_code="RC-1", arrivals=[arrival() for _ in range(MAX_BATCH + 1)], actor=ACTOR
        )


def test_an_empty_batch_is_refused(sites: Registry) -> None:
    with refused(sites, errors.InvalidInput):
        sites.register_arrivals(site_code="RC-1", arrivals=[], actor=ACTOR)


def test_a_batch_at_an_unknown_site_is_refused(sites: Registry) -> None:
    with refused(sites, errors.SiteNotFound):
        sites.register_arrivals(site_code="NOWHERE", arrivals=[arrival()], actor=ACTOR)


def test_a_batch_repeating_a_registration_number_is_refused(sites: Registry) -> None:
    batch = [arrival() for _ in range(5)]
    batch[3] = arrival(registration_number=batch[1].registration_number)

    with refused(sites, errors.BatchRejected) as info:
        sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)

    [item] = info.value.details["items"]
    assert (item["index"], item["code"]) == (3, "duplicate-registration-number")
    assert "item 1" in item["message"]


def test_a_batch_repeating_a_biometric_reference_is_refused(sites: Registry) -> None:
    batch = [arrival(biometric_reference=f"BIO-{i}") for i in range(4)]
    batch[2] = arrival(biometric_reference="BIO-0")

    with refused(sites, errors.BatchRejected) as info:
        sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)

    [item] = info.value.details["items"]
    assert (item["index"], item["code"]) == (2, "duplicate-biometric-reference")


def test_a_batch_holding_an_existing_persons_registration_number_is_refused(
    sites: Registry,
) -> None:
    existing = register(sites, registration_number="REG-OLD")
    batch = [arrival() for _ in range(6)]
    batch[4] = arrival(registration_number="REG-OLD")

    with refused(sites, errors.BatchRejected) as info:
        sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)

    [item] = info.value.details["items"]
    assert (item["index"], item["code"]) == (4, "duplicate-registration-number")
    assert item["existing_person"] == str(existing)


def test_a_batch_holding_an_existing_persons_biometric_reference_is_refused(
    sites: Registry,
) -> None:
    register(sites, biometric_reference="BIO-OLD")
    batch = [arrival() for _ in range(3)]
    batch[0] = arrival(biometric_reference="BIO-OLD")

    with refused(sites, errors.BatchRejected) as info:
        sites.register_arrivals(site_code="RC-1", arrivals=batch, actor=ACTOR)

    assert [(i["index"], i["code"]) for i in info.value.details["items"]] == [
        (0, "duplicate-biometric-reference")
    ]
