"""Precision and recall of the duplicates matcher on a labelled set of name pairs across
scripts and spellings (tests/field/data/name_pairs.csv: how it was built is written at
its head)."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from campledger.projections import matching
from campledger.projections.matching import Profile, name_fields

PAIRS = Path(__file__).parent / "data" / "name_pairs.csv"
MIN_RECALL = 0.96
MIN_PRECISION = 0.90


@dataclass(frozen=True)
class LabelledPair:
    kind: str
    same: bool
    a: tuple[str, str]
    b: tuple[str, str]


def labelled_pairs() -> list[LabelledPair]:
    with PAIRS.open(encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return [
            LabelledPair(
                r["kind"],
                r["same"] == "1",
                (r["given_a"], r["family_a"]),
                (r["given_b"], r["family_b"]),
            )
            for r in rows
        ]


def record(given: str, family: str) -> Profile:
    """A record with only its names to tell it apart: one sex, one estimated birth year."""
    return Profile(
        person_id=uuid4(), sex="female", **name_fields(given, family), date_of_birth=None,
        estimated_age=30, registered_year=2025, household_id=None, site_code="RC-1",
        active=True,
    )  # fmt: skip


def proposed(pair: LabelledPair) -> bool:
    return matching.assess(record(*pair.a), record(*pair.b)) is not None


def scores() -> tuple[float, float, Counter[tuple[str, str]]]:
    """Precision, recall, and the outcome counts by kind ("tp", "fp", "fn", "tn")."""
    outcomes: Counter[tuple[str, str]] = Counter()
    for pair in labelled_pairs():
        found = proposed(pair)
        outcome = {(True, True): "tp", (False, True): "fp", (True, False): "fn"}.get(
            (pair.same, found), "tn"
        )
        outcomes[(pair.kind, outcome)] += 1
    total = Counter(outcome for (_, outcome), n in outcomes.items() for _ in range(n))
    precision = total["tp"] / (total["tp"] + total["fp"])
    recall = total["tp"] / (total["tp"] + total["fn"])
    return precision, recall, outcomes


def test_the_labelled_set_has_at_least_300_pairs_of_both_labels() -> None:
    pairs = labelled_pairs()
    assert len(pairs) >= 300
    assert sum(p.same for p in pairs) >= 100 and sum(not p.same for p in pairs) >= 100


def test_the_matcher_finds_duplicates_across_scripts_and_spellings_precisely() -> None:
    precision, recall, outcomes = scores()
    wrong = sorted((k, o, n) for (k, o), n in outcomes.items() if o in ("fp", "fn"))
    assert recall >= MIN_RECALL, (recall, wrong)
    assert precision >= MIN_PRECISION, (precision, wrong)


if __name__ == "__main__":  # python -m tests.field.test_name_pairs: the numbers, the misses
    p, r, counts = scores()
    print(f"precision {p:.3f}  recall {r:.3f}")
    for (kind, outcome), n in sorted(counts.items()):
        print(f"  {kind:15} {outcome} {n}")
    for pair in labelled_pairs():
        if proposed(pair) != pair.same:
            a, b = record(*pair.a), record(*pair.b)
            print(
                "  missed" if pair.same else "  wrongly proposed",
                pair.kind,
                pair.a,
                pair.b,
                f"{matching.similarity(a, b):.2f}",
                a.given_key,
                a.family_key,
                "|",
                b.given_key,
                b.family_key,
            )
