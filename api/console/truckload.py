"""A truckload as the registration grid sends it: rows of text, one person each, read into
the arrivals that ``RegisterArrivals`` takes, with each problem pinned to its row and field.

Only what the browser sends as text is read here (a date that is not one, an age that is
not a number); every rule about an arrival is the domain's (``Arrival.validate``), asked
row by row for the live checks and, for the whole truckload, by the command itself, whose
refusal names each bad item: each is shown on its row, next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from campledger.api.console.forms import MISSING, NOT_A_WHOLE_NUMBER, Problem
from campledger.api.console.i18n import N_
from campledger.api.console.refusal_words import REFUSAL_NAMES
from campledger.domain.commands import MAX_BATCH
from campledger.domain.model import errors
from campledger.domain.model.arrival import Arrival

# The grid's columns, in reading order: the order Tab follows.
COLUMNS = (
    "household_id",
    "relationship",
    "given_name",
    "family_name",
    "given_name_latin",
    "family_name_latin",
    "sex",
    "date_of_birth",
    "estimated_age",
    "nationality",
    "registration_number",
    "biometric_reference",
    "specific_needs",
)
# What a row holds beyond its household: a row with none of these is left blank, and out.
TYPED = frozenset(COLUMNS) - {"household_id", "relationship"}
# A truck's load, and what a tablet draws without strain; always one batch of the domain's.
GRID_ROWS = 500
assert GRID_ROWS <= MAX_BATCH, "a grid is saved as one batch"
# What the form parser takes for the grid's POST: the fields of a full batch, and the few
# of the form itself. Past this the parser refuses the form before it is read into memory.
FORM_FIELDS = MAX_BATCH * len(COLUMNS) + 8
# A form field of the grid: ``r<row>-<column>``.
_NAME = re.compile(r"^r(\d{1,4})-([a-z_]+)$")
LAST_ROW = 9999

TOO_MANY_ROWS = N_(
    "A truckload holds at most %(limit)s people here: save these %(limit)s, then enter the "
    "rest in a new grid."
)
NO_ROWS = N_("Enter at least one person.")
NOT_A_DATE = N_("Enter the date as year-month-day, e.g. 2015-03-21.")
TWICE_IN_TRUCKLOAD = N_("This appears on another row of this truckload too.")


def name(row: int, column: str) -> str:
    return f"r{row}-{column}"


@dataclass
class Row:
    """One person's row: its number in the grid, and what was typed in each column."""

    number: int
    values: dict[str, str] = field(default_factory=dict)

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    @property
    def blank(self) -> bool:
        return not any(self.get(column).strip() for column in TYPED)


def read_rows(sent: Mapping[str, Any]) -> list[Row]:
    """The grid's rows, in their order, from the fields sent (other fields ignored)."""
    rows: dict[int, Row] = {}
    for key, value in sent.items():
        found = _NAME.match(key)
        if found is None or found.group(2) not in COLUMNS or not isinstance(value, str):
            continue
        number = int(found.group(1))
        rows.setdefault(number, Row(number)).values[found.group(2)] = value
    return [rows[n] for n in sorted(rows)]


def filled(rows: Sequence[Row]) -> list[Row]:
    return [row for row in rows if not row.blank]


def read_arrival(row: Row) -> tuple[Arrival, list[Problem]]:
    """The row as an arrival (not yet validated), and what could not be read as text."""
    problems: list[Problem] = []

    def text(column: str) -> str:
        return row.get(column).strip()

    def optional(column: str) -> str | None:
        return text(column) or None

    born: date | None = None
    if dob := text("date_of_birth"):
        try:
            born = date.fromisoformat(dob)
        except ValueError:
            problems.append(Problem(NOT_A_DATE, name(row.number, "date_of_birth")))
    age: int | None = None
    if years := text("estimated_age"):
        try:
            age = int(years)
        except ValueError:
            problems.append(Problem(NOT_A_WHOLE_NUMBER, name(row.number, "estimated_age")))
    for required in ("given_name", "sex", "nationality", "registration_number"):
        if not text(required):
            problems.append(Problem(MISSING, name(row.number, required)))
    arrival = Arrival(
        registration_number=text("registration_number"),
        given_name=text("given_name"),
        family_name=text("family_name"),
        sex=text("sex"),
        nationality=text("nationality"),
        date_of_birth=born,
        estimated_age=age,
        household_id=optional("household_id"),
        relationship=optional("relationship"),
        biometric_reference=optional("biometric_reference"),
        specific_needs=tuple(c.strip() for c in re.split(r"[,;\s]+", text("specific_needs")) if c),
        given_name_latin=optional("given_name_latin"),
        family_name_latin=optional("family_name_latin"),
    )
    return arrival, problems


def check_row(row: Row, today: date) -> list[Problem]:
    """The row's problems: what could not be read, else the domain's first broken rule."""
    arrival, problems = read_arrival(row)
    if problems:
        return problems
    try:
        arrival.validate(today)
    except errors.DomainError as error:
        return [refusal(row.number, error.code, error.message)]
    return []


# The domain's refusals of an arrival, by code or by the first words of its message, and
# the column each concerns (longest words first: "given name in Latin" before "given name").
_COLUMN_OF_CODE = {
    "invalid-nationality": "nationality",
    "invalid-sex": "sex",
    "invalid-registration-number": "registration_number",
    "duplicate-registration-number": "registration_number",
    "duplicate-biometric-reference": "biometric_reference",
}
_COLUMN_OF_WORDS = (
    ("given name in latin", "given_name_latin"),
    ("family name in latin", "family_name_latin"),
    ("given name", "given_name"),
    ("family name", "family_name"),
    ("household id", "household_id"),
    ("relationship", "relationship"),
    ("biometric reference", "biometric_reference"),
    ("registration number", "registration_number"),
    ("estimated age", "estimated_age"),
    ("unknown specific need", "specific_needs"),
    ("specific needs", "specific_needs"),
    ("date of birth", "date_of_birth"),
    ("a date of birth", "date_of_birth"),
)
UNKNOWN_NEED = N_("Use UNHCR specific-needs codes, e.g. SM or SM-MN, separated by commas.")
NOT_ALLOWED = N_("This was refused: %(detail)s")


def refusal(row: int, code: str, message: str) -> Problem:
    """A domain refusal of one row's arrival, next to the field it concerns."""
    words = message.lower()
    column = _COLUMN_OF_CODE.get(code) or next(
        (column for lead, column in _COLUMN_OF_WORDS if words.startswith(lead)), None
    )
    where = name(row, column) if column else name(row, "given_name")
    if words.startswith("the same "):
        return Problem(TWICE_IN_TRUCKLOAD, where, detail=message)
    if column == "specific_needs":
        return Problem(UNKNOWN_NEED, where, detail=message)
    known = REFUSAL_NAMES.get(code)
    if known is not None:
        return Problem(known, where, detail=message)
    return Problem(NOT_ALLOWED, where, {"detail": message}, detail=message)


def batch_problems(rows: Sequence[Row], refused: Sequence[Problem]) -> list[Problem] | None:
    """A refused batch's items on their rows (``rows`` as sent in the batch); None for a
    refusal of the truckload as a whole."""
    batch = [p for p in refused if p.code in _BATCH_CODES]
    if not batch:
        return None
    items = batch[0].about.get("items", ())
    return [
        refusal(rows[item["index"]].number, item["code"], item["message"])
        for item in items
        if 0 <= item["index"] < len(rows)
    ]


_BATCH_CODES = frozenset({errors.BatchRejected.code, errors.BatchConflict.code})
