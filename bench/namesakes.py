"""What bounding the likely-duplicates model's namesake groups would cost in recall.

The model proposes every pair of active records of one sex whose names are alike and whose
birth years are at most two apart. Among people with the same name (same sound keys of
given and family name) and birth years, that is every pair: a group of n namesakes gives
n·(n−1)/2 pairs, so the work and the review list grow with the square of the caseload. Any
rule that bounds a group (proposing, within a large group, only pairs with more evidence
than name and birth year: a date of birth, a household) must drop the pairs of people
registered twice whose second registration has neither, as ``bench.duplicates_projection``
plants them.

For synthetic caseloads of the given sizes (the same generator and seed as
``bench.duplicates_projection``), prints the largest group of namesakes born in one year,
the pairs such groups hold, and for several bounds T the share of twice-registered people
whose namesakes within ±2 years outnumber T: the recall such a bound would cost. No
database: it reads the caseload only.

    python -m bench.namesakes [PEOPLE ...]     (default: 100000 1000000)
"""

from __future__ import annotations

from collections import Counter

import typer
from rich.console import Console
from rich.table import Table

from bench.duplicates_projection import THIS_YEAR, caseload
from campledger.projections.matching import BIRTH_YEAR_WINDOW, name_fields

BOUNDS = (20, 50, 100, 200)
Group = tuple[str, str, str, int]  # sex, given-name key, family-name key, birth year


def window(sizes: Counter[Group], group: Group) -> int:
    """Namesakes born within the birth-year window of this group's year, itself included."""
    sex, given, family, born = group
    years = range(born - BIRTH_YEAR_WINDOW, born + BIRTH_YEAR_WINDOW + 1)
    return sum(sizes.get((sex, given, family, y), 0) for y in years)


def main(people: list[int] = typer.Argument(None)) -> None:
    table = Table(title="Namesakes: same sex, name keys and birth year")
    for column in ("people", "largest group", "pairs within groups",
                   *(f"twice-registered beyond T={t}" for t in BOUNDS)):  # fmt: skip
        table.add_column(column, justify="right")
    for size in people or [100_000, 1_000_000]:
        load = caseload(size, seed=7)
        group_of: dict[str, Group] = {}
        for arrival in load.arrivals:
            names = name_fields(arrival.given_name, arrival.family_name or "")
            born = (
                arrival.date_of_birth.year
                if arrival.date_of_birth
                else THIS_YEAR - (arrival.estimated_age or 0)
            )
            group_of[arrival.registration_number] = (
                arrival.sex, names["given_key"], names["family_key"], born,
            )  # fmt: skip
        sizes = Counter(group_of.values())
        twice = len(load.twice)
        windows = [window(sizes, group_of[second]) for _, second in load.twice]
        beyond = [sum(w > t for w in windows) for t in BOUNDS]
        table.add_row(
            f"{len(load.arrivals):,}", f"{max(sizes.values())}",
            f"{sum(n * (n - 1) // 2 for n in sizes.values()):,}",
            *(f"{b:,} of {twice:,} ({b / twice:.1%})" for b in beyond),
        )  # fmt: skip
    Console(width=160).print(table)


if __name__ == "__main__":
    typer.run(main)
