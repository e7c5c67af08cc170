"""One row of an arrivals CSV, checked: an arrival's fields, or every problem it has.

The columns are an arrival's fields (``domain.model.arrival.Arrival``, which the API's
``ArrivalCreate`` also takes); docs/import.md lists them. Each row is checked against the
same rules the Registry applies, so a file is either known good or every bad row is named
by its line and column. A reason says what is wrong with a column, never what the column
held: the values are names, dates of birth and biometric references.

The checks are written out by hand rather than through pydantic or ``Arrival.validate``:
a validation model per row cost more than the import's whole write path (profiled), and
the Registry validates each arrival again anyway, so a check missed here still refuses
the row at import time rather than letting it through. Most rows of a real file are good,
so each rule first accepts a good value the cheap way and asks the domain (for its exact
words) only about a doubtful one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from operator import itemgetter
from uuid import UUID

from campledger.api.schemas import ArrivalCreate
from campledger.api.services.import_checked import (
    ArrivalFields,
    CheckedRows,
    RawRow,
    RowProblem,
)
from campledger.domain.model import errors
from campledger.domain.model.arrival import (
    IDENTIFIER_MAX,
    Arrival,
    check_latin_name,
    check_registration_number,
)
from campledger.domain.model.needs import parse_specific_needs
from campledger.domain.model.registration_numbers import (
    REGISTRATION_NUMBER_MAX,
    REGISTRATION_PUNCTUATION,
)
from campledger.domain.model.values import (
    CLOCK_SKEW,
    DATE_FORMATS,
    DAY,
    ISO_DATES,
    MAX_AGE,
    TEXT_MAX,
    Relationship,
    Sex,
    check_age,
    parse_date_of_birth,
    parse_nationality,
    parse_sex,
    unstorable_text,
    years_before,
)

# An arrival's fields, in its order; the file may hold them in any order. How precise a
# date of birth is is read from the date itself (1985, or 1985-06-30), not from a column.
COLUMNS: tuple[str, ...] = tuple(
    field.name for field in dataclasses.fields(Arrival) if field.name != "date_of_birth_precision"
)
# The fields a JSON body must hold are the columns a file must have.
REQUIRED_COLUMNS = tuple(name for name in COLUMNS if ArrivalCreate.model_fields[name].is_required())
NEEDS_SEPARATOR = ";"

_SEXES = frozenset(s.value for s in Sex)
_RELATIONSHIPS = frozenset(r.value for r in Relationship)
# For ASCII, the domain's rule (check_registration_number): letters, digits and its
# punctuation. The rest (folding, scripts) is left to the domain itself.
_REGISTRATION_NUMBER = re.compile(f"[A-Za-z0-9{re.escape(REGISTRATION_PUNCTUATION)}]+")
# Enough digits for MAX_AGE: a longer cell is refused before int() is asked to read it
# (Python refuses to read more than 4,300 digits, with an error of its own).
_AGE_DIGITS = len(str(MAX_AGE))


def check_rows(
    indices: dict[str, int],
    width: int,
    now: datetime,
    rows: list[RawRow],
    needs_separator: str = NEEDS_SEPARATOR,
    date_format: str = ISO_DATES,
) -> CheckedRows:
    """Check a chunk of rows: their fields if good, their problems if not.

    ``needs_separator`` is what separates specific needs in a cell: ``;`` in campledger's
    files, a space in a Kobo/ODK export (a select-multiple's answer). ``date_format`` is
    how the file writes a full date of birth (``values.DATE_FORMATS``); a year alone is
    read in either."""
    check = _RowChecker(indices, width, now, needs_separator, date_format)
    checked = CheckedRows([], [])
    for line, values in rows:
        check(line, values, checked)
    return checked


Bad = Callable[[str, str, str], None]


class _RowChecker:
    """Checks rows of one file, with the column positions and the clock bound once."""

    def __init__(
        self,
        indices: dict[str, int],
        width: int,
        now: datetime,
        needs_separator: str = NEEDS_SEPARATOR,
        date_format: str = ISO_DATES,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if date_format not in DATE_FORMATS:
            raise ValueError(f"date format must be one of: {', '.join(DATE_FORMATS)}")
        self.needs_separator = needs_separator
        self.date_format = date_format
        self.width = width
        self.latest = now + CLOCK_SKEW
        self.today = now.date()
        # Anyone born after this day is at most MAX_AGE: no need to count their years.
        self.oldest_birth = years_before(self.today, MAX_AGE + 1)
        # A missing column reads the empty string appended after the row's last field.
        positions = [indices.get(name, width) for name in COLUMNS]
        self.pick = itemgetter(*positions)
        self.padded = any(p == width for p in positions)
        self.nationalities: dict[str, str] = {}

    def __call__(self, line: int, values: list[str], checked: CheckedRows) -> None:
        if len(values) != self.width:
            reason = f"the row has {len(values)} fields where the header has {self.width}"
            checked.problems.append(RowProblem(line, "*", "wrong-field-count", reason))
            return
        cells = list(map(str.strip, self.pick([*values, ""] if self.padded else values)))
        problems, fields = self.explain(line, cells)
        if problems:
            checked.problems.extend(problems)
        else:
            checked.good.append((line, fields))

    def quick(self, cells: Sequence[str]) -> ArrivalFields | None:
        """The row's fields if it breaks no rule; None if it breaks any."""
        problems, fields = self.explain(0, cells)
        return None if problems else fields

    def explain(self, line: int, cells: Sequence[str]) -> tuple[list[RowProblem], ArrivalFields]:
        """Every problem of a row, named by column; and its fields, good when it has none."""
        problems: list[RowProblem] = []
        # A cell the log cannot hold is reported for that alone: its other rules would
        # only repeat that it is wrong (a NUL is not a letter, nor a date).
        unstorable = {} if unstorable_text("".join(cells)) is None else _unstorable(line, cells)
        problems.extend(unstorable.values())

        def bad(column: str, code: str, reason: str) -> None:
            if column not in unstorable:
                problems.append(RowProblem(line, column, code, reason))

        (
            number,
            given,
            family,
            sex,
            nationality,
            dob,
            age,
            household,
            relationship,
            bio,
            needs,
            given_latin,
            family_latin,
            occurred,
            person,
        ) = cells
        # Each rule takes a good value at once; a doubtful one goes to a method that says
        # what is wrong with it, in the domain's words where the domain has them.
        if not (
            number.isascii()
            and 0 < len(number) <= REGISTRATION_NUMBER_MAX
            and _REGISTRATION_NUMBER.fullmatch(number)
        ):
            number = self._registration_number(number, bad)
        if (
            not given
            or len(given) > TEXT_MAX
            or len(family) > TEXT_MAX
            or len(household) > IDENTIFIER_MAX
            or len(bio) > IDENTIFIER_MAX
        ):
            self._text(given, family, household, bio, bad)
        if given_latin or family_latin:
            self._latin_names(given_latin, family_latin, bad)
        sex = sex.lower()
        if sex not in _SEXES:
            self._sex(sex, bad)
        nationality = self.nationalities.get(nationality) or self._nationality(nationality, bad)
        born, precision = self._date_of_birth(dob, bad) if dob else (None, None)
        years = self._estimated_age(age, bad) if age else None
        if not dob and not age:
            bad("date_of_birth", "invalid-age", "a date_of_birth or an estimated_age is required")
        relationship = relationship.lower()
        if relationship and relationship not in _RELATIONSHIPS:
            allowed = ", ".join(r.value for r in Relationship)
            bad("relationship", "invalid-relationship", f"relationship must be one of: {allowed}")
        codes = self._needs(needs, bad) if needs else ()
        when = self._occurred_at(occurred, bad) if occurred else None
        person_id = self._person_id(person, bad) if person else None
        return problems, ArrivalFields(
            registration_number=number,
            given_name=given,
            family_name=family,
            sex=sex,
            nationality=nationality,
            date_of_birth=born,
            estimated_age=years,
            household_id=household or None,
            relationship=relationship or None,
            biometric_reference=bio or None,
            specific_needs=codes,
            given_name_latin=given_latin or None,
            family_name_latin=family_latin or None,
            occurred_at=when,
            person_id=person_id,
            date_of_birth_precision=precision,
        )

    def _registration_number(self, number: str, bad: Bad) -> str:
        if not number:
            bad("registration_number", "required", "registration_number is required")
        elif len(number) > REGISTRATION_NUMBER_MAX:
            bad(
                "registration_number",
                "too-long",
                f"registration_number is longer than {REGISTRATION_NUMBER_MAX}",
            )
        else:  # to be folded into its one form, or refused, by the domain's own rule
            try:
                return check_registration_number(number)
            except errors.DomainError as error:
                bad("registration_number", error.code, error.message)
        return number

    @staticmethod
    def _text(given: str, family: str, household: str, bio: str, bad: Bad) -> None:
        if not given:
            bad("given_name", "required", "given_name is required")
        for column, text, limit in (
            ("given_name", given, TEXT_MAX),
            ("family_name", family, TEXT_MAX),
            ("household_id", household, IDENTIFIER_MAX),
            ("biometric_reference", bio, IDENTIFIER_MAX),
        ):
            if len(text) > limit:
                bad(column, "too-long", f"{column} is longer than {limit} characters")

    @staticmethod
    def _latin_names(given: str, family: str, bad: Bad) -> None:
        for column, text in (("given_name_latin", given), ("family_name_latin", family)):
            try:
                check_latin_name(column, text)
            except errors.DomainError as error:
                bad(column, error.code, error.message)

    @staticmethod
    def _sex(sex: str, bad: Bad) -> None:
        try:
            parse_sex(sex)
        except errors.DomainError as error:
            bad("sex", error.code, error.message)

    def _nationality(self, code: str, bad: Bad) -> str:
        try:
            known = self.nationalities[code] = parse_nationality(code)
        except errors.DomainError as error:
            bad("nationality", error.code, error.message)
            return code
        return known

    def _date_of_birth(self, text: str, bad: Bad) -> tuple[date | None, str | None]:
        try:
            born, precision = parse_date_of_birth(text, self.date_format)
        except errors.InvalidAge:
            bad(
                "date_of_birth",
                "invalid-date",
                f"date_of_birth must be a date as {self.date_format}, or a year as YYYY",
            )
            return None, None
        if precision == DAY and self.oldest_birth < born <= self.today:
            return born, precision
        try:
            check_age(born, None, self.today, precision)
        except errors.InvalidAge as error:
            bad(
                "date_of_birth",
                "invalid-age",
                error.message.replace("date of birth", "date_of_birth", 1),
            )
        return born, precision

    def _estimated_age(self, text: str, bad: Bad) -> int | None:
        if (
            not (text.isascii() and text.isdigit())
            or len(text) > _AGE_DIGITS
            or int(text) > MAX_AGE
        ):
            bad("estimated_age", "invalid-age", f"estimated_age must be a whole number 0–{MAX_AGE}")
            return None
        return int(text)

    def _needs(self, text: str, bad: Bad) -> tuple[str, ...]:
        if self.needs_separator == " ":
            codes, separated = text.split(), "spaces"
        else:
            sep = self.needs_separator
            codes, separated = [n for n in text.split(sep) if n.strip()], f"'{sep}'"
        try:
            return parse_specific_needs(codes)
        except errors.InvalidInput as error:
            bad(
                "specific_needs",
                "invalid-specific-need",
                f"specific_needs holds codes separated by {separated}: {error}",
            )
            return ()

    def _occurred_at(self, text: str, bad: Bad) -> datetime | None:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            bad("occurred_at", "invalid-occurred-at", "occurred_at must be an ISO 8601 date-time")
            return None
        if when.tzinfo is None:
            bad("occurred_at", "invalid-occurred-at", "occurred_at must include a time zone")
        elif when > self.latest:
            bad("occurred_at", "occurred-in-future", "occurred_at is in the future")
        return when

    def _person_id(self, text: str, bad: Bad) -> UUID | None:
        try:
            return UUID(text)
        except ValueError:
            bad("person_id", "invalid-person-id", "person_id must be a UUID")
            return None


def _unstorable(line: int, cells: Sequence[str]) -> dict[str, RowProblem]:
    found = {}
    for column, cell in zip(COLUMNS, cells, strict=True):
        reason = unstorable_text(cell)
        if reason is not None:
            found[column] = RowProblem(
                line, column, errors.UnstorableValue.code, f"{column} {reason}"
            )
    return found
