"""Who may be whom: what matching knows of a record, the score of a pair, and the prefilter.

The likely-duplicates read model (``projections.duplicates``) keeps one ``Profile`` per
record (made from its registration, changed by its later events) and scores pairs within
a block with ``assess``:

    score = name similarity
            − 0.02 per year between the birth years
            − 0.03 when both records have a date of birth, one slip apart
            + 0.03 when both have the very same date of birth
            + 0.05 when both belong to the same household
    (kept within 0–1)

A pair is proposed only when the name similarity reaches ``NAME_THRESHOLD`` and, if both
records have a date of birth, the two are the same or one slip apart (one digit, or day
and month swapped): two recorded dates that differ more mean two people.

The name similarity compares given names and family names each (``projections.names``)
and takes their mean, or compares whole names when either record has no family name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date
from typing import Any, TypedDict
from uuid import UUID

from rapidfuzz import fuzz, process

from campledger.domain.model.person import Person
from campledger.domain.model.values import YEAR
from campledger.projections import names
from campledger.projections.scripts import is_arabic

NAME_THRESHOLD = 0.85
BIRTH_YEAR_WINDOW = 2
YEAR_PENALTY = 0.02
HOUSEHOLD_BONUS = 0.05
SAME_BIRTH_DATE_BONUS = 0.03
SLIPPED_BIRTH_DATE_PENALTY = 0.03

# Corrections of these fields change who a record may be a duplicate of.
MATCHED_FIELDS = frozenset(
    {"given_name", "family_name", "sex", "date_of_birth", "estimated_age", "household_id"}
)


@dataclass(slots=True, frozen=True)
class Profile:
    """What matching needs to know of one record (personal: never leaves this module)."""

    person_id: UUID
    sex: str
    given_form: str
    family_form: str
    given_key: str
    family_key: str
    block: str
    date_of_birth: date | None
    estimated_age: int | None
    registered_year: int
    household_id: str | None
    site_code: str | None
    active: bool

    @property
    def birth_year(self) -> int:
        if self.date_of_birth is not None:
            return self.date_of_birth.year
        return self.registered_year - (self.estimated_age or 0)

    @property
    def bucket(self) -> tuple[str, str, int]:
        return (self.sex, self.block, self.birth_year)

    @classmethod
    def registered(cls, person_id: UUID, event: Person.Registered) -> Profile:
        registered_year = event.occurred_at.astimezone(UTC).year
        born, estimated = event.date_of_birth, event.estimated_age
        if born is not None and event.date_of_birth_precision == YEAR:
            # A year alone is no day to compare: it matches as an age, in the same birth year.
            estimated = registered_year - born.year
            born = None
        return cls(
            person_id=person_id,
            sex=event.sex,
            # An erased person's names no longer open: nothing to match on.
            **name_fields(event.given_name or "", event.family_name or ""),
            date_of_birth=born,
            estimated_age=estimated,
            registered_year=registered_year,
            household_id=event.household_id,
            site_code=event.site_code,
            active=True,
        )

    def after(self, event: Any) -> tuple[Profile, bool] | None:
        """The profile after a later event, and whether it must be matched again (None: the
        event changes nothing matching keeps)."""
        if isinstance(event, Person.DetailCorrected):
            if event.field not in MATCHED_FIELDS:
                return None
            value = event.new_value
            if event.field == "given_name":
                return self.renamed(given_name=value or ""), True
            if event.field == "family_name":
                return self.renamed(family_name=value or ""), True
            if event.field == "date_of_birth":
                value = None if value is None else date.fromisoformat(str(value))
            return replace(self, **{event.field: value}), True
        if isinstance(event, Person.TransferReceived):
            return replace(self, site_code=event.site_code), False
        if isinstance(event, (Person.MergedInto, Person.Departed)):
            return replace(self, active=False), False
        if isinstance(event, Person.PersonalDataErased):
            # Erased: nothing personal stays here, and the record is never proposed again.
            erased = name_fields("", "")
            return replace(self, **erased, date_of_birth=None, active=False), False
        return None

    def renamed(self, given_name: str | None = None, family_name: str | None = None) -> Profile:
        given = self.given_form if given_name is None else given_name
        family = self.family_form if family_name is None else family_name
        return replace(self, **name_fields(given, family))


@dataclass(slots=True)
class Stats:
    """What matching did, for benchmarks: records matched, pairs scored, pairs proposed."""

    matched: int = 0
    window: int = 0
    scored: int = 0
    proposed: int = 0


class _Names(TypedDict):
    given_form: str
    family_form: str
    given_key: str
    family_key: str
    block: str


def name_fields(given_name: str, family_name: str) -> _Names:
    given = " ".join(names.normal_tokens(given_name))
    family = " ".join(names.normal_tokens(family_name))
    return {
        "given_form": given,
        "family_form": family,
        "given_key": names.sound_key(given, ""),
        "family_key": names.sound_key("", family),
        "block": names.block_key(given, family),
    }


def similarity(a: Profile, b: Profile) -> float:
    """Name similarity 0–1: given and family names each, or whole names when either record
    has no family name (a second given name is often the father's name) or no given name
    (two missing given names are not two names that agree). A name that normalises to
    nothing scores 0."""
    if a.given_form and b.given_form and a.family_form and b.family_form:
        given = names.name_similarity(a.given_form, a.given_key, b.given_form, b.given_key)
        family = names.name_similarity(
            a.family_form, a.family_key, b.family_form, b.family_key, prefix=True
        )
        return (given + family) / 2
    return names.name_similarity(
        f"{a.given_form} {a.family_form}".strip(),
        f"{a.given_key} {a.family_key}".strip(),
        f"{b.given_form} {b.family_form}".strip(),
        f"{b.given_key} {b.family_key}".strip(),
    )


def dates_compatible(a: Profile, b: Profile) -> bool:
    """False when both records have a date of birth and the two cannot be one date
    mistyped: namesakes abound, and two recorded dates that differ mean two people."""
    if a.date_of_birth is None or b.date_of_birth is None or a.date_of_birth == b.date_of_birth:
        return True
    return one_slip(a.date_of_birth, b.date_of_birth)


def one_slip(a: date, b: date) -> bool:
    """One digit of the date wrong, or day and month swapped (03-04 written for 04-03)."""
    same = (a.year == b.year, a.month == b.month, a.day == b.day)
    agree = sum(same)
    if agree == 2:  # one field differs: by one digit?
        if not same[0]:
            return _one_digit(a.year, b.year)
        if not same[1]:
            return _one_digit(a.month, b.month)
        return _one_digit(a.day, b.day)
    return agree == 1 and same[0] and (a.month, a.day) == (b.day, b.month)


def _one_digit(x: int, y: int) -> bool:
    # Integers of equal digit count (years 1000–9999, months, days): one place differs.
    differ = 0
    while x or y:
        differ += x % 10 != y % 10
        x, y = x // 10, y // 10
    return differ == 1


def assess(a: Profile, b: Profile) -> tuple[int, str] | None:
    """(score in thousandths, reasons) if the pair is a likely duplicate, else None."""
    if not dates_compatible(a, b):
        return None
    name = similarity(a, b)
    if name < NAME_THRESHOLD:
        return None
    years = abs(a.birth_year - b.birth_year)
    score = name - YEAR_PENALTY * years
    reasons = [f"name {name:.2f}", "same sex"]
    if a.date_of_birth is not None and a.date_of_birth == b.date_of_birth:
        score += SAME_BIRTH_DATE_BONUS
        reasons.append("same date of birth")
    elif a.date_of_birth is not None and b.date_of_birth is not None:
        score -= SLIPPED_BIRTH_DATE_PENALTY
        reasons.append("dates of birth one slip apart")
    elif years == 0:
        reasons.append("same birth year")
    else:
        reasons.append(f"birth year ±{years}")
    if a.household_id is not None and a.household_id == b.household_id:
        score += HOUSEHOLD_BONUS
        reasons.append("same household")
    return round(min(max(score, 0.0), 1.0) * 1000), ", ".join(reasons)


def plausible(target: Profile, others: list[Profile]) -> list[Profile]:
    """The records whose given name can still bring the pair to ``NAME_THRESHOLD``.

    With given and family names on both sides, name = (G + F) / 2 and F ≤ 1, so
    G ≥ 2T − 1. Between two Latin-letter names G = max(s, (s + k) / 2) at most (s:
    spelling, k: sound similarity of the given names; a vowel clash only lowers it), which
    is at least that only if s ≥ 2T − 1, or s and k both ≥ 4T − 3. When either name is in
    Arabic script G ≤ k (only the sound key is shared), so k ≥ 2T − 1. RapidFuzz computes
    s and k for the whole window in C++; only the survivors are scored.
    """
    if not target.family_form or not target.given_form or len(others) < 8:
        return others  # small windows, and whole-name comparisons, are scored directly
    both = [o for o in others if o.family_form and o.given_form]
    direct = [o for o in others if not (o.family_form and o.given_form)]
    # A hair below the exact bounds: rounding must not drop a pair that reaches the threshold.
    need = (2 * NAME_THRESHOLD - 1) * 100 - 1e-6
    floor = (4 * NAME_THRESHOLD - 3) * 100 - 1e-6
    if is_arabic(target.given_form):
        return _by_key(target, both, need) + direct
    spelled = [o for o in both if not is_arabic(o.given_form)]
    keyed = _by_key(target, [o for o in both if is_arabic(o.given_form)], need)
    spelling = _close(target.given_form, [o.given_form for o in spelled], floor)
    if not spelling:
        return keyed + direct
    sound = set(_close(target.given_key, [spelled[i].given_key for i in spelling], floor))
    keys = list(spelling)
    kept = [spelled[i] for i in spelling if spelling[i] >= need]
    kept += [spelled[keys[j]] for j in sound if spelling[keys[j]] < need]
    return kept + keyed + direct


def _by_key(target: Profile, others: list[Profile], need: float) -> list[Profile]:
    if not others:
        return []
    return [others[i] for i in _close(target.given_key, [o.given_key for o in others], need)]


def _close(name: str, names: list[str], cutoff: float) -> dict[int, float]:
    """The index and similarity of each of ``names`` at least ``cutoff`` like ``name``
    (RapidFuzz scans them all in C++), most alike first."""
    found = process.extract(
        name, names, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, limit=None
    )
    return {i: score for _, score, i in found}
