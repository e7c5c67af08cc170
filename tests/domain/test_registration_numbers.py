"""A registration number has one stored form: a number printed once is claimed once.

Numbers are claimed and looked up by their exact text, so a full-width "ＡＤＲ－１２" typed
on an East Asian keyboard, or "١٢" typed on an Arabic one, must be the same number as
"ADR-12"; and a Cyrillic "А" among Latin letters, identical on paper, must not make a
second number that lets one person be registered twice.
"""

from __future__ import annotations

import pytest

from domain import errors
from domain.arrival import check_registration_number
from domain.registry import Registry
from tests.domain.support import ACTOR, arrival, person, refused, register


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ADR-2025-000123", "ADR-2025-000123"),
        (" R/1.a_b-c ", "R/1.a_b-c"),
        ("ＡＤＲ-１２３", "ADR-123"),  # full-width letters and digits
        ("ADR-１２３", "ADR-123"),  # full-width digits only
        ("ADR-١٢٣", "ADR-123"),  # Arabic-Indic digits
        ("ADR-۱۲۳", "ADR-123"),  # Extended Arabic-Indic (Persian, Urdu) digits
        ("Ř-١٢", "Ř-12"),  # a Latin letter with a diacritic is still Latin
        ("АБВ-12", "АБВ-12"),  # all Cyrillic: one script, left as it is
        ("حلب-12", "حلب-12"),  # all Arabic letters
    ],
)
def test_a_registration_number_is_stored_in_one_form(given: str, stored: str) -> None:
    assert check_registration_number(given) == stored


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("ADR-\u0410BC", "Cyrillic and Latin"),  # a Cyrillic capital A among Latin letters
        ("P\u0391SS-1", "Greek and Latin"),  # a Greek capital alpha
        ("ADR 12", "letters, digits"),
        ("ADR-12½", "letters, digits"),  # folds to 1⁄2, whose slash is not allowed
        ("R-" + "ﬁ" * 40, "longer than 64"),  # 42 characters, 82 once the ligatures fold
    ],
)
def test_a_registration_number_mixing_scripts_or_characters_is_refused(
    given: str, says: str
) -> None:
    with pytest.raises(errors.InvalidRegistrationNumber) as raised:
        check_registration_number(given)
    assert says in raised.value.message
    assert raised.value.code == "invalid-registration-number"


def test_an_arrival_stores_the_folded_number(sites: Registry) -> None:
    person_id = register(sites, registration_number="ＡＤＲ-００７")
    assert person(sites, person_id).registration_number == "ADR-007"


def test_the_same_number_in_full_width_digits_is_a_duplicate(sites: Registry) -> None:
    register(sites, registration_number="ADR-42")
    with refused(sites, errors.DuplicateRegistrationNumber):
        register(sites, registration_number="ADR-４２")
    with refused(sites, errors.DuplicateRegistrationNumber):
        register(sites, registration_number="ADR-٤٢")


def test_a_batch_with_the_same_number_in_two_forms_names_the_second(sites: Registry) -> None:
    arrivals = [arrival(registration_number="ADR-77"), arrival(registration_number="ADR-７７")]
    with refused(sites, errors.BatchRejected) as raised:
        sites.register_arrivals(site_code="RC-1", arrivals=arrivals, actor=ACTOR)
    [item] = raised.value.details["items"]
    assert (item["index"], item["code"]) == (1, "duplicate-registration-number")


def test_a_mixed_script_number_is_refused_at_registration_and_in_a_correction(
    sites: Registry,
) -> None:
    with refused(sites, errors.InvalidRegistrationNumber):
        register(sites, registration_number="ADR-\u0410-1")
    person_id = register(sites)
    with refused(sites, errors.InvalidRegistrationNumber):
        sites.correct_detail(
            person_id=person_id,
            field="registration_number",
            value="\u0410DR-1",
            reason="typo",
            actor=ACTOR,
        )
    sites.correct_detail(
        person_id=person_id,
        field="registration_number",
        value="ＡＤＲ-９",
        reason="typo",
        actor=ACTOR,
    )
    assert person(sites, person_id).registration_number == "ADR-9"
