"""Names across transliterations: which spellings meet, and which stay apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from projections import matching
from projections.matching import NAME_THRESHOLD, Profile, name_fields
from projections.names import block_key, normal_form


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


def test_two_recorded_dates_of_birth_that_differ_lower_the_score() -> None:
    first = profile("Mohammed", "Adam")
    same_day = replace(profile("Muhammad", "Adam"), person_id=uuid4())
    other_day = replace(same_day, date_of_birth=date(1990, 7, 1))
    estimated = replace(same_day, date_of_birth=None, estimated_age=35)
    scored = {
        label: matching.assess(first, other)
        for label, other in (("same", same_day), ("other", other_day), ("age", estimated))
    }
    assert scored["same"] is not None and "same date of birth" in scored["same"][1]
    assert scored["other"] is not None and "other date of birth" in scored["other"][1]
    assert scored["age"] is not None and "same birth year" in scored["age"][1]
    assert scored["other"][0] < scored["age"][0] < scored["same"][0]
