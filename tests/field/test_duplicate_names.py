"""Names across transliterations: which spellings meet, and which stay apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from campledger.projections import matching
from campledger.projections.matching import NAME_THRESHOLD, Profile, name_fields
from campledger.projections.names import block_key, normal_form


def profile(given: str, family: str) -> Profile:
    return Profile(
        person_id=uuid4(), sex="male", **name_fields(given, family),
        date_of_birth=date(1990, 1, 1), estimated_age=None, registered_year=2025,
        household_id=None, site_code="RC-1", active=True,
    )  # fmt: skip


def similarity(a: tuple[str, str], b: tuple[str, str]) -> float:
    """What the read model computes for two records with these names."""
    return matching.similarity(profile(*a), profile(*b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Mohammed", "Hassan"), ("Muhammad", "Hassan")),
        (("Mohamed", "Hassan"), ("Mahamat", "Hasan")),
        (("Ahmed", "Hussein"), ("Ahmad", "Husayn")),
        (("Ahmed", "Hussein"), ("Ahmat", "Hussein")),
        (("Zainab", "Hussein"), ("Zaynab", "Hossein")),
        (("Ibrahim", "Osman"), ("Ebrahim", "Othman")),
        (("Aisha", "Yousef"), ("Aicha", "Youssouf")),
        (("Jamal", "Khalid"), ("Gamal", "Khaled")),
        (("Omar", "Al-Bashir"), ("Umar", "Bashir")),
        (("Fatima", "Abdallah"), ("Fatimah", "Abdullah")),
        (("Said", "Mahmoud"), ("Sa'id", "Mahmud")),
        (("Khadija", "Abubakar"), ("Khadidja", "Abu Bakr")),
        (("Abakar", "Siddiq"), ("Abakar", "Siddig")),
        (("Achta", "Tijani"), ("Achta", "Tidjani")),
        (("Brahim", "Adam"), ("Ibrahim", "Adam")),
        (("Osman", "Harun"), ("Ousmane", "Haroun Mahmoud")),
    ],
)
def test_transliterations_of_one_name_meet(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert block_key(*a) == block_key(*b)
    assert similarity(a, b) >= NAME_THRESHOLD


@pytest.mark.parametrize(
    "spelling", ["Abdel Rahman", "Abd al-Rahman", "Abd-el-Rahman", "Abdulrahman", "ABDELRAHMAN"]
)
def test_abd_names_are_written_one_way(spelling: str) -> None:
    assert normal_form(spelling, "") == "abdrahman"
    assert block_key("", spelling) == block_key("", "Abd al Rahman")


def test_accents_and_case_do_not_matter() -> None:
    assert normal_form("Aïcha", "Haroun") == normal_form("AICHA", "haroun")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Amina", "Haroun"), ("Fatima", "Haroun")),
        (("Hawa", "Adam"), ("Halima", "Adam")),
        (("Ibrahim", "Hassan"), ("Mohammed", "Hassan")),
    ],
)
def test_different_given_names_in_one_family_stay_apart(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert similarity(a, b) < NAME_THRESHOLD


def test_without_a_family_name_the_last_given_name_blocks() -> None:
    assert block_key("Amina Haroun", "") == block_key("Aminah", "Harun")


def test_two_recorded_dates_of_birth_must_be_one_date_to_be_proposed() -> None:
    first = profile("Mohammed", "Adam")  # born 1990-01-01
    same_day = replace(profile("Muhammad", "Adam"), person_id=uuid4())
    scored = {
        label: matching.assess(first, replace(same_day, **change))
        for label, change in (
            ("same", {}),
            ("slip", {"date_of_birth": date(1990, 1, 7)}),
            ("age", {"date_of_birth": None, "estimated_age": 35}),
            ("other", {"date_of_birth": date(1990, 11, 23)}),
        )
    }
    assert scored["other"] is None
    same, slip, age = scored["same"], scored["slip"], scored["age"]
    assert same is not None and "same date of birth" in same[1]
    assert slip is not None and "dates of birth one slip apart" in slip[1]
    assert age is not None and "same birth year" in age[1]
    assert slip[0] < age[0] < same[0]


def test_day_and_month_swapped_is_one_slip() -> None:
    first = replace(profile("Mohammed", "Adam"), date_of_birth=date(1990, 3, 4))
    swapped = replace(first, person_id=uuid4(), date_of_birth=date(1990, 4, 3))
    assert matching.dates_compatible(first, swapped)
    assert not matching.dates_compatible(first, replace(swapped, date_of_birth=date(1991, 4, 3)))


@pytest.mark.parametrize(
    ("a", "b", "slip"),
    [
        (date(1990, 1, 1), date(1991, 1, 1), True),  # one digit of the year
        (date(1990, 1, 1), date(1990, 1, 7), True),  # one digit of the day
        (date(1990, 1, 9), date(1990, 1, 10), False),  # two digits
        (date(1990, 3, 4), date(1990, 4, 3), True),  # day and month swapped
        (date(1990, 3, 4), date(1991, 4, 3), False),  # swapped, and another year
        (date(1990, 2, 1), date(1990, 3, 2), False),  # two fields
    ],
)
def test_one_slip_is_one_digit_or_day_and_month_swapped(a: date, b: date, slip: bool) -> None:
    assert matching.one_slip(a, b) is slip


def test_a_pair_scores_the_same_in_either_order() -> None:
    # The read model scores each pair once, from whichever record it matched first.
    spellings = [("Mohammed", "Adam Ismail"), ("Muhammad", "Adum"), ("Mahamat", "Adam"),
                 ("Mohamed", "Adam Ismaeel"), ("Muhamad", ""), ("Mohammed Adam", "")]  # fmt: skip
    profiles = [replace(profile(*names), estimated_age=30 + i % 2, date_of_birth=None)
                for i, names in enumerate(spellings)]  # fmt: skip
    for a in profiles:
        for b in profiles:
            assert matching.assess(a, b) == matching.assess(b, a)
