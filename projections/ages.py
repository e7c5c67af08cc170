"""Ages on the read side, where an age depends on the day it is asked on.

The roster keeps each person's date of birth, or one estimated from the age given at
registration (``years_before`` when registered, ``estimate_corrected`` when either is
corrected), and finds the people in an age band by their birth dates on the day it is
read. The occupancy counts keep the band at registration instead, which PostgreSQL
computes itself (``band_sql``). Both follow ``domain.model.values.AGE_BANDS``.
"""

from __future__ import annotations

from datetime import date

from campledger.domain.model import values
from campledger.domain.model.values import AGE_BANDS

BAND_NAMES = [name for name, _, _ in AGE_BANDS]

# The estimate is anchored on the registration day in UTC, the day the domain checked
# the estimated age against.
_ESTIMATE = "(registered_at AT TIME ZONE 'UTC')::date - make_interval(years => {age})"


def band_sql(age: str) -> str:
    """The SQL CASE giving ``domain.model.values.age_band`` of an integer expression."""
    arms = " ".join(f"WHEN {age} >= {low} THEN '{name}'" for name, low, _ in reversed(AGE_BANDS))
    return f"CASE {arms} ELSE 'unknown' END"


def age_band_bounds(band: str, today: date) -> tuple[date | None, date]:
    """Birth dates (exclusive lower, inclusive upper) of people in this age band today."""
    for name, low, high in AGE_BANDS:
        if name == band:
            born_by = values.years_before(today, low)
            born_after = None if high is None else values.years_before(today, high + 1)
            return born_after, born_by
    raise ValueError(f"unknown age band {band!r}; bands are {', '.join(b[0] for b in AGE_BANDS)}")


def years_before(day: date, years: int | None) -> date | None:
    if years is None:
        return None
    return values.years_before(day, years)


def estimate_corrected(field: str) -> str:
    """The roster's ``birth_date_estimate`` in SQL after ``field`` (the date of birth or the
    estimated age) is corrected to ``%(v)s``: the date of birth whenever there is one.
    SET sees the row as it was, so the new value is spelled out in the expression."""
    if field == "date_of_birth":
        return f"COALESCE(%(v)s::date, {_ESTIMATE.format(age='estimated_age')})"
    return f"COALESCE(date_of_birth, {_ESTIMATE.format(age='%(v)s::integer')})"
