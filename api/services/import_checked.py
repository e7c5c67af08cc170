"""What checking an arrivals file's rows gives: a row's checked fields, or its problems.

Plain data (tuples and a frozen dataclass), so that a chunk of rows can be checked in a
worker process and its result sent back cheaply.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

from campledger.domain.model.arrival import Arrival


@dataclasses.dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with one row: where, which column, and what rule it broke."""

    line: int
    column: str
    code: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ArrivalFields(NamedTuple):
    """A row's values, checked: ``Arrival``'s fields in its order (``COLUMNS``), so that
    ``Arrival(*fields)`` is the arrival. Not an Arrival itself: a tuple is cheap to build
    and cheap to send to import workers."""

    registration_number: str
    given_name: str
    family_name: str
    sex: str
    nationality: str
    date_of_birth: date | None
    estimated_age: int | None
    household_id: str | None
    relationship: str | None
    biometric_reference: str | None
    specific_needs: tuple[str, ...]
    given_name_latin: str | None
    family_name_latin: str | None
    occurred_at: datetime | None
    person_id: UUID | None
    date_of_birth_precision: str | None


def to_arrival(fields: ArrivalFields) -> Arrival:
    return Arrival(*fields)


# Rows travel as plain data: a chunk of them may be checked in a worker process.
RawRow = tuple[int, list[str]]
GoodRow = tuple[int, ArrivalFields]


class CheckedRows(NamedTuple):
    """A chunk of rows checked: the good ones (line, fields) and every problem, in order."""

    good: list[GoodRow]
    problems: list[RowProblem]
