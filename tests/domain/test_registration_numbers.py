"""A registration number has one stored form: a number printed once is claimed once.

Numbers are claimed and looked up by their exact text, so a full-width "ＡＤＲ－１２" typed
on an East Asian keyboard, or "١٢" typed on an Arabic one, must be the same number as
"ADR-12"; and a Cyrillic "А" among Latin letters, identical on paper, must not make a
second number that lets one person be registered twice.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campledger.domain.model import errors
from campledger.domain.model.registration_numbers import (
    character_class,
    check_registration_number,
    fold,
    registration_number_pattern,
)
from campledger.domain.service.registry import Registry
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
        ("ＡＤＲ－１２", "ADR-12"),  # full-width punctuation too
        ("\u00c1DR-\u00b2", "\u00c1DR-2"),  # a precomposed letter; a superscript digit
        ("\uac00-1", "\uac00-1"),  # a Hangul syllable as typed
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
        # A character standing for several: refused, not folded past 64 characters.
        ("R-" + "ﬁ" * 40, "one character"),
        ("R-\u3371", "one character"),  # the squared "hPa"
        ("A\u0301DR", "letters, digits"),  # an accent on its own (not "Á")
        ("\u1100\u1161", "letters, digits"),  # Hangul jamo that normalisation would join
        ("ADR-\u0bf0", "letters, digits"),  # the Tamil number ten: not a decimal digit
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


# --- the rule and the pattern published for it are one -------------------------------------
#
# The OpenAPI document states the rule as ``registration_number_pattern()`` (read with
# Python's ``re``, as Hypothesis and schemathesis read it): what it matches, the domain must
# take, and what it does not, the domain must refuse. The pattern is built from the rule's
# own ``character_class``; these tests check the result, not the construction.


@pytest.fixture(scope="module")
def pattern() -> re.Pattern[str]:
    return re.compile(registration_number_pattern())


def accepted(number: str) -> bool:
    try:
        check_registration_number(number)
    except errors.InvalidInput:
        return False
    return True


# Every assigned code point lies below U+40000 or in plane 14 (tags, variation selectors);
# planes 15 and 16 are private use, and the planes between are empty.
CODE_POINTS = [*range(0x40000), *range(0xE0000, 0xE1000)]


def test_the_pattern_takes_each_character_the_rule_takes_and_no_other(
    pattern: re.Pattern[str],
) -> None:
    disagree = [
        f"U+{code:04X}"
        for code in CODE_POINTS
        if (pattern.fullmatch(chr(code)) is not None) != (character_class(chr(code)) is not None)
    ]
    assert not disagree
    # ... and the rule's classes are what the domain decides, one character at a time.
    for code in (*range(0x3000), *range(0xFF00, 0xFFF0)):
        char = chr(code)
        if not char.isspace():
            assert accepted(char) is (character_class(char) is not None), f"U+{code:04X}"


def test_the_pattern_takes_letters_of_one_script_only(pattern: re.Pattern[str]) -> None:
    # One letter of each script the rule knows, against one of every other.
    first: dict[str, str] = {}
    for code in CODE_POINTS:
        found = character_class(chr(code))
        if found and found not in first:
            first[found] = chr(code)
    assert {"Latin", "Arabic", "Cyrillic", "Ethiopic", "Greek", "Cjk"} <= set(first)
    for script, letter in first.items():
        for other, second in first.items():
            for number in (letter + second, f"{letter}-١٢/{second}"):
                same = script == other
                assert (pattern.fullmatch(number) is not None) is same, number
                assert accepted(number) is same, number


# Built once, when first drawn from: the pattern is large, and so is its strategy.
GENERATED = st.deferred(
    lambda: st.from_regex(registration_number_pattern(), fullmatch=True).filter(
        lambda n: len(n) <= 64
    )
)


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(number=GENERATED)
def test_what_the_pattern_generates_is_taken_and_stored_as_long_as_it_was_sent(
    number: str,
) -> None:
    stored = check_registration_number(number)
    assert len(stored) == len(number.strip())
    assert stored == "".join(map(fold, number.strip()))
    assert check_registration_number(stored) == stored  # one stored form: a fixed point


@settings(max_examples=500, suppress_health_check=list(HealthCheck), deadline=None)
@given(number=st.text(max_size=64) | st.text(st.sampled_from("aZ٣Ａ-_/. \u0301ﬁАΑ"), max_size=8))
def test_any_text_is_taken_exactly_when_the_pattern_matches_it(
    pattern: re.Pattern[str], number: str
) -> None:
    assert accepted(number) is (pattern.fullmatch(number) is not None)
