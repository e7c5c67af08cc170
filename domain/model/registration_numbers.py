"""Registration numbers: the characters one may hold, its one stored form, and the same rule
written as a pattern for those who check numbers before sending them.

Numbers are claimed (and found) by their exact text, so one printed number must have one
stored form: compatibility forms fold ("Ａ１２" typed on an East Asian keyboard is "A12")
and every decimal digit becomes its ASCII digit ("١٢" typed on an Arabic keyboard is
"12"). Letters from two scripts are refused rather than guessed at: a Cyrillic "А" among
Latin letters looks the same on paper and would let one number be registered twice.

The rule is decided one character at a time (``character_class``), so that the pattern
(``registration_number_pattern``) can be built from the very same function and cannot
drift from it: a character is taken when its compatibility form (NFKC) is one letter, one
decimal digit, or one of ``- _ / .``. A character standing for several (the ligature "ﬁ",
"½", the squared "㍿") is refused, and so is one that would join the character before it
when folded (a combining accent typed on its own, a Hangul vowel jamo): so the stored form
is each character folded in turn, exactly as long as the number sent.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from functools import cache, lru_cache

from campledger.domain.model import errors
from campledger.domain.model.values import check_text

REGISTRATION_NUMBER_MAX = 64
REGISTRATION_PUNCTUATION = "-_/."
NEUTRAL = ""  # the class of a digit or punctuation: it goes with letters of any script

REGISTRATION_NUMBER_RULE = (
    "Letters of any one script (Latin, Arabic, Cyrillic, Ge'ez, ...; not two scripts in one "
    "number), decimal digits of any script, and '-', '_', '/' and '.'; no spaces inside, "
    "white space around is dropped. Full-width and other compatibility forms are stored "
    "folded (ＡＤＲ－１２ is ADR-12) and every digit as its ASCII digit (١٢ is 12); a "
    "character standing for several (a ligature such as ﬁ) is refused. The pattern is read "
    "with Python's regular expressions, where \\d is any decimal digit."
)


def check_registration_number(value: str) -> str:
    """The number in its one stored form; raises if it cannot be a registration number."""
    number = check_text("registration number", value, max_length=REGISTRATION_NUMBER_MAX)
    if number.isascii():  # nearly every number: nothing to fold, Latin letters only
        if not all(c.isalnum() or c in REGISTRATION_PUNCTUATION for c in number):
            raise _not_allowed()
        return number
    classes = {character_class(c) for c in number}
    if None in classes:
        raise _not_allowed()
    scripts = sorted(c for c in classes if c)
    if len(scripts) > 1:
        raise errors.InvalidRegistrationNumber(
            f"registration number mixes letters of {' and '.join(scripts)} script; "
            "write it in one script"
        )
    return "".join(map(fold, number))


def _not_allowed() -> errors.InvalidRegistrationNumber:
    return errors.InvalidRegistrationNumber(
        "registration number may hold letters, digits, '-', '_', '/' and '.' only, each "
        "written as one character (no ligatures, fractions or spaces)"
    )


@lru_cache(maxsize=4096)
def character_class(char: str) -> str | None:
    """The script of the letter ``char`` folds to, ``NEUTRAL`` for a digit or punctuation,
    or None if a registration number may not hold it."""
    return _character_class(char)


def _character_class(char: str) -> str | None:
    decomposed = unicodedata.normalize("NFKD", char)
    first = decomposed[:1]
    if not first or unicodedata.combining(first) or first in _joins_the_one_before():
        return None
    folded = fold(char)
    if len(folded) != 1:
        return None
    if (folded.isdigit() and folded.isascii()) or folded in REGISTRATION_PUNCTUATION:
        return NEUTRAL
    if folded.isalpha():
        return script_of(folded)
    return None


def fold(char: str) -> str:
    """A character's stored form: its compatibility form, a decimal digit as ASCII."""
    return "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c
        for c in unicodedata.normalize("NFKC", char)
    )


def script_of(letter: str) -> str:
    # The Unicode name starts with the script ("LATIN CAPITAL LETTER A", "CYRILLIC CAPITAL
    # LETTER A", "ARABIC LETTER ALEF", "CJK UNIFIED IDEOGRAPH-4E00"): close enough to the
    # Script property, which the standard library does not expose.
    return unicodedata.name(letter, "UNKNOWN").split(" ", 1)[0].capitalize()


@cache
def _joins_the_one_before() -> frozenset[str]:
    """Characters that normalisation merges into the character before them although they
    are not combining marks: the second of a canonical pair of starters (Hangul vowel and
    final jamo, a few vowel signs). Refusing them keeps the fold of a number the fold of
    each of its characters in turn."""
    found = {chr(c) for c in range(0x1161, 0x1176)} | {chr(c) for c in range(0x11A8, 0x11C3)}
    for code in range(sys.maxunicode + 1):
        mapping = unicodedata.decomposition(chr(code))
        if not mapping or mapping.startswith("<"):
            continue
        parts = [chr(int(part, 16)) for part in mapping.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", "".join(parts)) == chr(code):
            found.add(parts[1])
    return frozenset(found)


# --- the same rule as a pattern ------------------------------------------------------------


_NEVER_TAKEN = frozenset({"Cn", "Co", "Cs"})


@cache
def registration_number_pattern() -> str:
    """A regular expression matching exactly what ``check_registration_number`` accepts
    (up to its length, which is ``maxLength``): white space around, then digits and
    punctuation (``NEUTRAL``) with letters of one script only.

    Built from ``character_class`` over every code point. Digits are ``\\d`` plus the few
    characters that fold to one (superscripts, circled digits), which is what Python's
    ``re`` (as Hypothesis and the tests use it) means by ``\\d``: any decimal digit.
    """
    classes: dict[str, list[int]] = {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        # Unassigned, private-use and surrogate code points are never taken (no letter or
        # digit, and normalisation leaves them alone): skipped for speed only.
        if unicodedata.category(char) in _NEVER_TAKEN:
            continue
        found = _character_class(char)
        if found is not None:
            classes.setdefault(found, []).append(code)
    spaces = _char_class(c for c in range(sys.maxunicode + 1) if chr(c).isspace())
    decimal = {c for c in classes[NEUTRAL] if unicodedata.category(chr(c)) == "Nd"}
    neutral = "[\\d" + _char_class(c for c in classes.pop(NEUTRAL) if c not in decimal)[1:]
    scripts = "|".join(
        f"(?:{_char_class(codes)}{neutral}*)+" for _, codes in sorted(classes.items())
    )
    return f"^{spaces}*(?:{neutral}+|{neutral}*(?:{scripts})){spaces}*$"


def _char_class(codes: Iterator[int] | list[int]) -> str:
    """``[...]`` of these code points, as ranges, spelled alike in Python and ECMAScript:
    \\uXXXX within the Basic Multilingual Plane, the character itself beyond it."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return (
        "["
        + "".join(
            _spelled(low) if low == high else f"{_spelled(low)}-{_spelled(high)}"
            for low, high in ranges
        )
        + "]"
    )


def _spelled(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)
