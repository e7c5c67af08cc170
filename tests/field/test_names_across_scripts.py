"""Names in the scripts people write them in: each normalisation rule, names that normalise
to nothing, and the duplicates read model proposing a pair written in two scripts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections import matching
from campledger.projections.duplicates import _Index
from campledger.projections.matching import NAME_THRESHOLD, Profile, name_fields
from campledger.projections.names import block_key, normal_form, normal_tokens, sound_key, word_key
from campledger.projections.scripts import fold
from tests.field import test_duplicates as field
from tests.field.test_duplicates import arrival, pair, project, proposed, register

# The read model's fixtures, as the field tests of duplicates build them.
registry = field.registry
conn = field.conn


def profile(given: str, family: str, **changes: object) -> Profile:
    base = Profile(
        person_id=uuid4(), sex="male", **name_fields(given, family), date_of_birth=None,
        estimated_age=30, registered_year=2025, household_id=None, site_code="RC-1",
        active=True,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def similarity(a: tuple[str, str], b: tuple[str, str]) -> float:
    return matching.similarity(profile(*a), profile(*b))


# --- Arabic script ----------------------------------------------------------------------


def test_harakat_and_tatweel_are_not_letters() -> None:
    assert normal_form("مُحَمَّد", "") == normal_form("محمـــد", "") == "محمد"


@pytest.mark.parametrize("spelling", ["أحمد", "إحمد", "آحمد", "ٱحمد"])
def test_alef_forms_are_one_letter(spelling: str) -> None:
    assert normal_form(spelling, "") == "احمد"


def test_hamza_carriers_and_a_lone_hamza_are_unified() -> None:
    assert normal_form("مؤمن", "") == "مومن"
    assert normal_form("عائشة", "") == "عايشه"
    assert normal_form("حواء", "") == normal_form("حوا", "")


def test_teh_marbuta_is_written_as_heh() -> None:
    assert normal_form("فاطمة", "") == normal_form("فاطمه", "")


def test_alef_maqsura_and_persian_ya_are_ya() -> None:
    assert normal_form("موسى", "") == normal_form("موسي", "") == normal_form("موسی", "")


def test_the_article_is_dropped_on_its_own_and_at_a_words_start() -> None:
    assert normal_tokens("عمر البشير") == normal_tokens("عمر ال بشير") == ("عمر", "بشير")
    # Names whose first letters only look like the article keep them.
    assert normal_tokens("الياس") == ("الياس",)


@pytest.mark.parametrize("spelling", ["عبد الرحمن", "عبدالرحمن", "عبد ال رحمن"])
def test_abd_names_in_arabic_script_are_written_one_way(spelling: str) -> None:
    assert normal_form(spelling, "") == "عبدرحمن"
    assert word_key("عبدرحمن") == word_key(normal_form("Abdel Rahman", ""))


def test_abu_is_glued_to_its_name_and_bin_is_dropped() -> None:
    assert normal_tokens("أبو بكر") == normal_tokens("ابوبكر") == ("ابوبكر",)
    assert normal_tokens("مريم بن علي") == ("مريم", "علي")
    assert normal_tokens("بن علي") == ("علي",)  # a family name written with its بن


@pytest.mark.parametrize(
    ("arabic", "latin"),
    [
        ("عمر", "Omar"), ("عثمان", "Osman"), ("علي", "Ali"),  # ع at the start: a vowel
        ("ثابت", "Thabit"), ("قاسم", "Gasim"), ("جمال", "Gamal"), ("خالد", "Khaled"),
        ("صالح", "Salih"), ("إسحاق", "Ishaq"), ("موسى", "Musa"), ("فاطمة", "Fatima"),
        ("إبراهيم", "Ibrahim"), ("يوسف", "Yusuf"), ("وليد", "Walid"), ("عبد الله", "Abdallah"),
    ],
)  # fmt: skip
def test_an_arabic_letter_keys_as_its_latin_spellings_do(arabic: str, latin: str) -> None:
    assert sound_key(arabic, "") == sound_key(latin, "")


def test_sorani_letters_are_read_not_dropped() -> None:
    assert sound_key("ئەحمەد", "") == sound_key("Ahmed", "")
    assert sound_key("ڕەحیم", "") == sound_key("Rahim", "")
    assert sound_key("هەڵۆ", "") == sound_key("Halo", "")


# --- other scripts and letters -----------------------------------------------------------


def test_turkish_letters_are_transliterated_as_clerks_write_them() -> None:
    assert normal_form("Kılıç", "") == "kilich"
    assert normal_form("Şükrü", "Doğan") == "shukru dogan"
    assert sound_key("Kılıç", "") == sound_key("Kilich", "")


def test_kurmanji_letters_are_transliterated() -> None:
    assert normal_form("Şêrko", "Mehmûd") == "sherko mehmud"


def test_cyrillic_is_transliterated_with_kh_as_h() -> None:
    assert normal_form("Мухаммад", "Хасан") == "muhammad hasan"
    assert normal_form("Джамал", "") == "djamal"
    assert sound_key("Ибрагим", "") == sound_key("Ibrahim", "")


def test_geez_is_transliterated() -> None:
    assert normal_form("ሰላም", "ተስፋዬ") == "selam tesfaye"
    assert sound_key("ሙሓመድ", "") == sound_key("Mohamed", "")


@pytest.mark.parametrize("name", ["Мухаммад", "محمد", "ሙሓመድ", "Kılıç", "ئەحمەد", "Ömer"])
def test_no_script_normalises_to_nothing(name: str) -> None:
    assert normal_form(name, "") != ""
    assert block_key("", name) != ""


def test_fold_keeps_arabic_script_and_latinises_the_rest() -> None:
    assert fold("Ayşe مُحَمَّد Юлия") == "ayshe محمد yuliya"


# --- comparing across scripts ------------------------------------------------------------


def test_one_name_in_two_scripts_meets() -> None:
    assert block_key("محمد", "عثمان") == block_key("Mohamed", "Osman")
    assert similarity(("محمد", "عثمان"), ("Mohamed", "Osman")) >= NAME_THRESHOLD
    assert similarity(("محمد", "عثمان"), ("Mahamat", "Ousmane")) >= NAME_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("حسن", "علي"), ("حسين", "علي")),  # long vowels written in Arabic differ
        (("حسن", "علي"), ("Hussein", "Ali")),  # ei: a ي that حسن does not write
        (("حسين", "علي"), ("Hassan", "Ali")),  # ي with no i, e or y to spell it
        (("محمود", "آدم"), ("Mohammed", "Adam")),  # و with no o or u
        (("Hassan", "Ali"), ("Hussein", "Ali")),  # a long i against none
    ],
)
def test_names_whose_long_vowels_differ_stay_apart(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert similarity(a, b) < NAME_THRESHOLD


def test_two_different_arabic_script_names_stay_apart() -> None:
    # Issue 12: both normalised to nothing and scored 1.0.
    assert similarity(("فاطمة", "آدم"), ("مريم", "عثمان")) < 0.5


def test_across_scripts_a_different_consonant_is_a_different_name() -> None:
    # No spelling to vouch for a near key: Hamid is not محمد.
    assert similarity(("Hamid", "Osman"), ("محمد", "عثمان")) < NAME_THRESHOLD


# --- names that normalise to nothing -----------------------------------------------------


@pytest.mark.parametrize(("given", "family"), [("", ""), ("؟؟", ""), ("...", "---"), ("ـــ", "")])
def test_a_name_of_nothing_has_no_block_and_matches_nothing(given: str, family: str) -> None:
    assert block_key(given, family) == ""
    empty = profile(given, family)
    assert matching.similarity(empty, profile(given, family)) == 0.0
    assert matching.assess(empty, profile(given, family)) is None
    assert matching.assess(empty, profile("Mohammed", "Adam")) is None


def test_a_record_without_a_block_is_in_no_window() -> None:
    index = _Index(None, 0)
    nobody, somebody = profile("", ""), profile("؟", "")
    index.put(nobody)
    index.put(somebody)
    assert not index.buckets
    assert list(index.window(somebody)) == []


def test_two_missing_given_names_do_not_agree() -> None:
    a, b = profile("", "Adam"), profile("", "Osman")
    assert matching.similarity(a, b) < NAME_THRESHOLD


# --- the read model ----------------------------------------------------------------------


@pytest.mark.postgres
def test_one_person_registered_in_two_scripts_is_proposed_and_two_women_are_not(
    registry: Registry, conn: psycopg.Connection[Any], database_url: str
) -> None:
    born = {"date_of_birth": None, "estimated_age": 40}
    osman_ar, osman_la, fatima, mariam, nobody, nobody_else = register(
        registry,
        "RC-1",
        arrival("AR-1", given_name="محمد", family_name="عثمان", **born),
        arrival("LA-1", given_name="Mohamed", family_name="Osman", **born),
        arrival("AR-2", given_name="فاطمة", family_name="آدم", sex="female", **born),
        arrival("AR-3", given_name="مريم", family_name="عثمان", sex="female", **born),
        arrival("X-1", given_name="؟", family_name="-", **born),
        arrival("X-2", given_name="؟", family_name="-", **born),
    )
    project(database_url)
    found = proposed(conn)
    assert pair(osman_ar, osman_la) in found
    assert pair(fatima, mariam) not in found
    assert pair(nobody, nobody_else) not in found
    assert set(found) == {pair(osman_ar, osman_la)}
