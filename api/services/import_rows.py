"""Reading an arrivals CSV: every row checked before anything is written.

The columns are the fields of the API's arrival schema (``api.schemas.ArrivalCreate``,
``domain.arrival.Arrival``); docs/import.md lists them. Each row is checked against the
same rules the Registry applies, so a file is either known good or every bad row is
named by its line and column. A reason says what is wrong with a column, never what the
column held: the values are names, dates of birth and biometric references.

The checks are written out by hand rather than through pydantic or ``Arrival.validate``:
a validation model per row cost more than the import's whole write path (profiled), and
the Registry validates each arrival again anyway, so a check missed here still refuses
the row at import time rather than letting it through.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from operator import itemgetter
from typing import Any
from uuid import UUID

from campledger.domain.model import errors
from campledger.domain.model.arrival import Arrival, check_latin_name, check_registration_number
from campledger.domain.model.needs import parse_specific_needs
from campledger.domain.model.values import (
    CLOCK_SKEW,
    MAX_AGE,
    Relationship,
    Sex,
    age_on,
    parse_nationality,
    unstorable_text,
)

# In the order of the arrival schema; the file may hold them in any order.
COLUMNS = (
    "registration_number", "given_name", "family_name", "sex", "nationality",
    "date_of_birth", "estimated_age", "household_id", "relationship",
    "biometric_reference", "specific_needs", "given_name_latin", "family_name_latin",
    "occurred_at", "person_id",
)  # fmt: skip
REQUIRED_COLUMNS = ("registration_number", "given_name", "sex", "nationality")
NEEDS_SEPARATOR = ";"

_SEXES = frozenset(s.value for s in Sex)
_RELATIONSHIPS = frozenset(r.value for r in Relationship)
# For ASCII, str.isalnum() plus '-', '_', '/', '.': the domain's rule
# (check_registration_number), which the rest (folding, scripts) is left to.
_REGISTRATION_NUMBER = re.compile(r"[\w\-/.]+", re.ASCII)
# Enough digits for MAX_AGE: a longer cell is refused before int() is asked to read it
# (Python refuses to read more than 4,300 digits, with an error of its own).
_AGE_DIGITS = len(str(MAX_AGE))


class ImportFileError(ValueError):
    """The file as a whole cannot be read: encoding, header, no rows."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with one row: where, which column, and what rule it broke."""

    line: int
    column: str
    code: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "code": self.code, "reason": self.reason}


# An arrival's fields in ``COLUMNS`` order, which is also ``Arrival``'s field order. Plain
# tuples, not Arrival objects: cheap to build, and cheap to send to import workers.
Fields = tuple[Any, ...]


@dataclass
class CheckedFile:
    """A file read and checked: its good rows, every problem, and its content digest.

    ``good`` holds ``(line, fields)`` pairs in file order.
    """

    digest: str
    rows: int
    good: list[tuple[int, Fields]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def bad_lines(self) -> set[int]:
        return {p.line for p in self.problems}


def _latin_names(*names: str) -> bool:
    """True when each name's Latin form, if given, passes the domain's rule."""
    try:
        for name in names:
            check_latin_name("name", name)
    except errors.DomainError:
        return False
    return True


def to_arrival(fields: Fields) -> Arrival:
    return Arrival(*fields)


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# Rows are checked in chunks: in this process, or spread over import workers.
CHUNK_ROWS = 5_000
RawRow = tuple[int, list[str]]
ChunkResult = tuple[list[tuple[int, Fields]], list[RowProblem]]
ChunkCheck = Callable[[list[RawRow]], ChunkResult]
ChunkMapper = Callable[[ChunkCheck, list[list[RawRow]]], Iterable[ChunkResult]]


def read_arrivals(
    content: bytes, *, now: datetime, map_chunks: ChunkMapper | None = None
) -> CheckedFile:
    """Parse and check a whole arrivals CSV; raises ``ImportFileError`` for an unusable file.

    ``now`` is the clock the checks use (date of birth not in the future, occurred_at
    not ahead of the clock); it must be timezone-aware. ``map_chunks`` (like ``map``,
    results in order) may check the chunks of rows elsewhere, in worker processes.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"the file is not UTF-8 text (first bad byte at offset {error.start})"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[RawRow] = []
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("the file is empty: it needs a header row and arrivals")
        indices = _column_indices(header)
        line = reader.line_num
        for values in reader:
            first_line, line = line + 1, reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            rows.append((first_line, values))
    except csv.Error:
        # csv's messages are about quoting, never the cell's content, but say it plainly.
        raise ImportFileError(
            f"the file is not valid CSV near line {reader.line_num} (unbalanced quotes?)"
        ) from None
    if not rows:
        raise ImportFileError("the file has a header row but no arrivals")
    checked = CheckedFile(digest=digest_of(content), rows=len(rows))
    check = partial(check_rows, indices, len(header), now)
    chunks = [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)]
    for good, problems in (map_chunks or map)(check, chunks):
        checked.good.extend(good)
        checked.problems.extend(problems)
    _flag_duplicates(checked)
    checked.problems.sort(key=lambda p: p.line)
    return checked


def check_rows(
    indices: dict[str, int], width: int, now: datetime, rows: list[RawRow]
) -> ChunkResult:
    """Check a chunk of rows: their fields if good, their problems if not."""
    check = _RowChecker(indices, width, now)
    found = CheckedFile(digest="", rows=len(rows))
    for line, values in rows:
        check(line, values, found)
    return found.good, found.problems


def _column_indices(header: list[str]) -> dict[str, int]:
    indices: dict[str, int] = {}
    for position, raw in enumerate(header, start=1):
        name = raw.strip().lower()
        if name not in COLUMNS:
            # Name the position, not the text: a file without a header would otherwise
            # have its first person's details echoed back as column names.
            raise ImportFileError(
                f"column {position} of the header is not an arrival field "
                f"(expected names from: {', '.join(COLUMNS)})"
            )
        if name in indices:
            raise ImportFileError(f"column {name} appears twice in the header")
        indices[name] = position - 1
    missing = [c for c in REQUIRED_COLUMNS if c not in indices]
    if missing:
        raise ImportFileError(f"the header lacks required columns: {', '.join(missing)}")
    return indices


class _RowChecker:
    """Checks rows of one file, with the column positions and the clock bound once.

    Two paths give the same verdict: ``quick`` accepts a good row fast and gives up at
    the first doubt; ``explain`` then finds every problem of that row. Most rows of a
    real file are good, so the import's pace is the quick path's.
    """

    def __init__(self, indices: dict[str, int], width: int, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.width = width
        self.latest = now + CLOCK_SKEW
        self.today = now.date()
        # Anyone born after this day is at most MAX_AGE: no need to count their years.
        self.oldest_birth = _years_before(self.today, MAX_AGE + 1)
        # A missing column reads the empty string appended after the row's last field.
        positions = [indices.get(name, width) for name in COLUMNS]
        self.pick = itemgetter(*positions)
        self.padded = any(p == width for p in positions)
        self.nationalities: dict[str, str] = {}

    def __call__(self, line: int, values: list[str], checked: CheckedFile) -> None:
        if len(values) != self.width:
            checked.problems.append(
                RowProblem(
                    line,
                    "*",
                    "wrong-field-count",
                    f"the row has {len(values)} fields where the header has {self.width}",
                )
            )
            return
        cells = list(map(str.strip, self.pick([*values, ""] if self.padded else values)))
        fields = self.quick(cells)
        if fields is None:
            problems, fields = self.explain(line, cells)
            if problems:
                checked.problems.extend(problems)
                return
        checked.good.append((line, fields))

    def quick(self, cells: list[str]) -> Fields | None:
        """The row's fields if every check passes at once; None at the first doubt."""
        if unstorable_text("".join(cells)) is not None:
            return None
        (
            number,
            given,
            family,
            sex,
            nat,
            dob,
            age,
            household,
            rel,
            bio,
            needs,
            g_latin,
            f_latin,
            occ,
            pid,
        ) = cells
        if number.isascii():
            if not 0 < len(number) <= 64 or _REGISTRATION_NUMBER.fullmatch(number) is None:
                return None
        else:  # to be folded into its one form, or refused, by the domain's own rule
            try:
                number = check_registration_number(number)
            except errors.DomainError:
                return None
        if not 0 < len(given) <= 200 or len(family) > 200:
            return None
        if len(household) > 128 or len(bio) > 128:
            return None
        if not _latin_names(g_latin, f_latin):
            return None
        sex = sex.lower()
        if sex not in _SEXES:
            return None
        nationality = self.nationalities.get(nat)
        if nationality is None:
            try:
                nationality = self.nationalities[nat] = parse_nationality(nat)
            except errors.DomainError:
                return None
        born: date | None = None
        if dob:
            try:
                born = date.fromisoformat(dob)
            except ValueError:
                return None
            if born > self.today or born <= self.oldest_birth:
                return None
        years: int | None = None
        if age:
            if not (age.isascii() and age.isdigit()) or len(age) > _AGE_DIGITS:
                return None
            if int(age) > MAX_AGE:
                return None
            years = int(age)
        elif born is None:
            return None
        if rel:
            rel = rel.lower()
            if rel not in _RELATIONSHIPS:
                return None
        codes: tuple[str, ...] = ()
        if needs:
            try:
                codes = parse_specific_needs([n for n in needs.split(NEEDS_SEPARATOR) if n.strip()])
            except errors.InvalidInput:
                return None
        when: datetime | None = None
        if occ:
            try:
                when = datetime.fromisoformat(occ)
            except ValueError:
                return None
            if when.tzinfo is None or when > self.latest:
                return None
        person_id: UUID | None = None
        if pid:
            try:
                person_id = UUID(pid)
            except ValueError:
                return None
        return (
            number, given, family, sex, nationality, born, years, household or None,
            rel or None, bio or None, codes, g_latin or None, f_latin or None, when, person_id,
        )  # fmt: skip

    def explain(self, line: int, cells: list[str]) -> tuple[list[RowProblem], Fields]:
        """Every problem of a row, named by column; the fields too, for a row without any."""
        problems: list[RowProblem] = []
        # A cell the log cannot hold is reported for that alone: its other rules would
        # only repeat that it is wrong (a NUL is not a letter, nor a date).
        unstorable = {}
        for column, cell in zip(COLUMNS, cells, strict=True):
            reason = unstorable_text(cell)
            if reason is not None:
                unstorable[column] = RowProblem(
                    line, column, errors.UnstorableValue.code, f"{column} {reason}"
                )
        problems.extend(unstorable.values())

        def bad(column: str, code: str, reason: str) -> None:
            if column not in unstorable:
                problems.append(RowProblem(line, column, code, reason))

        (
            number,
            given,
            family,
            sex,
            nat,
            dob,
            age,
            household,
            rel,
            bio,
            needs,
            g_latin,
            f_latin,
            occ,
            pid,
        ) = cells
        if not number:
            bad("registration_number", "required", "registration_number is required")
        elif len(number) > 64:
            bad("registration_number", "too-long", "registration_number is longer than 64")
        else:
            try:
                number = check_registration_number(number)
            except errors.DomainError as error:
                bad("registration_number", error.code, error.message)
        if not given:
            bad("given_name", "required", "given_name is required")
        for name, text, limit in (
            ("given_name", given, 200),
            ("family_name", family, 200),
            ("household_id", household, 128),
            ("biometric_reference", bio, 128),
        ):
            if len(text) > limit:
                bad(name, "too-long", f"{name} is longer than {limit} characters")
        for name, text in (("given_name_latin", g_latin), ("family_name_latin", f_latin)):
            try:
                check_latin_name(name, text)
            except errors.DomainError as error:
                bad(name, error.code, error.message)
        sex = sex.lower()
        if sex not in _SEXES:
            bad("sex", "invalid-sex", "sex must be one of: female, male, unknown")
        try:
            nat = parse_nationality(nat)
        except errors.DomainError as error:
            bad("nationality", error.code, error.message)
        born = self._date_of_birth(dob, bad)
        years = self._estimated_age(age, bad)
        if not dob and not age:
            bad("date_of_birth", "invalid-age", "a date_of_birth or an estimated_age is required")
        rel = rel.lower()
        if rel and rel not in _RELATIONSHIPS:
            allowed = ", ".join(r.value for r in Relationship)
            bad("relationship", "invalid-relationship", f"relationship must be one of: {allowed}")
        codes = self._needs(needs, bad)
        when = self._occurred_at(occ, bad)
        person_id = self._person_id(pid, bad)
        fields = (
            number, given, family, sex, nat, born, years, household or None,
            rel or None, bio or None, codes, g_latin or None, f_latin or None, when, person_id,
        )  # fmt: skip
        return problems, fields

    def _date_of_birth(self, text: str, bad: Callable[[str, str, str], None]) -> date | None:
        if not text:
            return None
        try:
            born = date.fromisoformat(text)
        except ValueError:
            bad("date_of_birth", "invalid-date", "date_of_birth must be a date as YYYY-MM-DD")
            return None
        if born > self.today:
            bad("date_of_birth", "invalid-age", "date_of_birth is in the future")
        elif age_on(born, self.today) > MAX_AGE:
            bad("date_of_birth", "invalid-age", f"date_of_birth gives an age above {MAX_AGE}")
        return born

    def _estimated_age(self, text: str, bad: Callable[[str, str, str], None]) -> int | None:
        if not text:
            return None
        if (
            not (text.isascii() and text.isdigit())
            or len(text) > _AGE_DIGITS
            or int(text) > MAX_AGE
        ):
            bad("estimated_age", "invalid-age", f"estimated_age must be a whole number 0–{MAX_AGE}")
            return None
        return int(text)

    def _needs(self, text: str, bad: Callable[[str, str, str], None]) -> tuple[str, ...]:
        codes = [n for n in text.split(NEEDS_SEPARATOR) if n.strip()]
        try:
            return parse_specific_needs(codes)
        except errors.InvalidInput as error:
            bad(
                "specific_needs",
                "invalid-specific-need",
                f"specific_needs holds codes separated by '{NEEDS_SEPARATOR}': {error}",
            )
            return ()

    def _occurred_at(self, text: str, bad: Callable[[str, str, str], None]) -> datetime | None:
        if not text:
            return None
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

    def _person_id(self, text: str, bad: Callable[[str, str, str], None]) -> UUID | None:
        if not text:
            return None
        try:
            return UUID(text)
        except ValueError:
            bad("person_id", "invalid-person-id", "person_id must be a UUID")
            return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _flag_duplicates(checked: CheckedFile) -> None:
    """The same registration number, biometric reference or person id on two lines:
    the later line is the bad one (the Registry would refuse the pair anyway)."""
    good = checked.good
    positions = {
        column: COLUMNS.index(column)
        for column in ("registration_number", "biometric_reference", "person_id")
    }
    duplicates: set[int] = set()
    for column, position in positions.items():
        values = [f[position] for _, f in good if f[position] is not None]
        if len(set(values)) == len(values):
            continue  # the usual case, found without a loop in Python
        first: dict[Any, int] = {}
        for line, fields in good:
            value = fields[position]
            if value is None:
                continue
            seen = first.setdefault(value, line)
            if seen != line:
                duplicates.add(line)
                checked.problems.append(
                    RowProblem(
                        line,
                        column,
                        f"duplicate-{column.replace('_', '-')}",
                        f"the same {column} is on line {seen}",
                    )
                )
    if duplicates:
        checked.good = [g for g in good if g[0] not in duplicates]


def arrival_template() -> str:
    """A header row and one example row, to start a file from."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(
        ["RC-0001", "Amina", "Haroun", "female", "SDN", "1990-04-01", "", "H-17",
         "focal_point", "", "WR;SM-MN", "2025-03-01T08:30:00+00:00", ""]
    )  # fmt: skip
    return buffer.getvalue()


__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "CheckedFile",
    "Fields",
    "ImportFileError",
    "RowProblem",
    "arrival_template",
    "digest_of",
    "read_arrivals",
    "to_arrival",
]
