"""Small counts blanked so that a published table cannot single out a person: which counts
to hide, and which others must go with them so that no published sum gives one back
(docs/exports.md, "Small counts")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def check_threshold(suppress_below: int | None) -> int | None:
    """The threshold as given, or ValueError: below 2 suppresses nothing, and a typo such
    as 0 or -5 must not pass for protection."""
    if suppress_below is None:
        return None
    if isinstance(suppress_below, bool) or not isinstance(suppress_below, int):
        raise ValueError("suppress_below must be a whole number")
    if not 2 <= suppress_below <= 1000:
        raise ValueError("suppress_below must be between 2 and 1000 (counts below it are blanked)")
    return suppress_below


def suppress(
    counts: Mapping[str, int],
    threshold: int,
    sums: Sequence[tuple[str, Sequence[str]]] = (),
    *,
    known_totals: Sequence[Sequence[str]] = (),
) -> set[str]:
    """The keys of ``counts`` to blank.

    A count is suppressed when 0 < count < ``threshold``. Then, so that no published sum
    gives a suppressed count back, every sum (``total`` = the ``parts``; a group in
    ``known_totals`` is a sum whose total is published elsewhere) left with exactly one
    unknown member loses another: its smallest published non-zero part, or else its total.
    Repeated until no sum has exactly one unknown."""
    hidden = {k for k, v in counts.items() if 0 < v < threshold}
    equations = [(t, tuple(p)) for t, p in sums] + [(None, tuple(g)) for g in known_totals]
    changed = True
    while changed:
        changed = False
        for total, parts in equations:
            members = [*parts, *([total] if total is not None else [])]
            if sum(m in hidden for m in members) != 1:
                continue
            candidates = sorted((counts[p], p) for p in parts if p not in hidden and counts[p] > 0)
            if candidates:
                hidden.add(candidates[0][1])
            elif total is not None and total not in hidden and counts[total] > 0:
                hidden.add(total)
            else:
                continue
            changed = True
    return hidden


def two_smallest(counts: Mapping[str, int]) -> set[str]:
    """The two smallest non-zero counts: one alone would be the blanked total's remainder
    (and a site's only count is its total)."""
    non_zero = sorted((v, k) for k, v in counts.items() if v > 0)
    return {k for _, k in non_zero[:2]}
