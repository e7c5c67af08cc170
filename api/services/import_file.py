"""Reading an arrivals CSV: the whole file checked before anything is written.

The file as a whole (its encoding, its header, whether it holds any row) and the rows
against each other (a registration number on two lines) are checked here; each row
against the rules an arrival must meet, in ``api.services.import_rows``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

from campledger.api.services.import_checked import CheckedRows, GoodRow, RawRow, RowProblem
from campledger.api.services.import_kobo import (
    ImportSource,
    KoboHeaderError,
    from_kobo,
    looks_like_kobo,
)
from campledger.api.services.import_rows import (
    COLUMNS,
    NEEDS_SEPARATOR,
    REQUIRED_COLUMNS,
    check_rows,
)
from campledger.domain.model.values import DAY_FIRST_DATES, ISO_DATES


class DateFormat(StrEnum):
    """How a file writes a full date of birth: never guessed, since 03/04/2001 is 3 April in
    one country and 4 March in another. A year alone (1985) reads the same in either."""

    ISO = ISO_DATES
    DAY_FIRST = DAY_FIRST_DATES


class ImportFileError(ValueError):
    """The file as a whole cannot be read: encoding, header, no rows."""


@dataclass
class CheckedFile:
    """A file read and checked: its good rows, every problem, and its content digest.

    ``good`` holds ``(line, fields)`` pairs in file order.
    """

    digest: str
    rows: int
    good: list[GoodRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def bad_lines(self) -> set[int]:
        return {p.line for p in self.problems}


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# Rows are checked in chunks: in this process, or spread over import workers.
CHUNK_ROWS = 5_000
ChunkCheck = Callable[[list[RawRow]], CheckedRows]
ChunkMapper = Callable[[ChunkCheck, list[list[RawRow]]], Iterable[CheckedRows]]


def read_arrivals(
    content: bytes,
    *,
    now: datetime,
    map_chunks: ChunkMapper | None = None,
    source: ImportSource = ImportSource.AUTO,
    date_format: str = ISO_DATES,
) -> CheckedFile:
    """Parse and check a whole arrivals CSV; raises ``ImportFileError`` for an unusable file.

    ``now`` is the clock the checks use (date of birth not in the future, occurred_at
    not ahead of the clock); it must be timezone-aware. ``map_chunks`` (like ``map``,
    results in order) may check the chunks of rows elsewhere, in worker processes.
    ``source`` says whose columns the file has; ``auto`` tells a Kobo/ODK export by its
    header (``api.services.import_kobo``). ``date_format`` is how the file writes full
    dates of birth: ``YYYY-MM-DD`` (the default) or ``DD/MM/YYYY``, never guessed.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"the file is not UTF-8 text (first bad byte at offset {error.start})"
        ) from None
    reader = csv.reader(
        io.StringIO(text, newline=""), strict=True, delimiter=_delimiter(text, source)
    )
    rows: list[RawRow] = []
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("the file is empty: it needs a header row and arrivals")
        kobo = source is ImportSource.KOBO or (
            source is ImportSource.AUTO and looks_like_kobo(header)
        )
        if not kobo:
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
    # The same file read with another date format is another list of arrivals: its
    # batches must not pass for the ones an earlier run imported.
    signed = content if date_format == ISO_DATES else content + f"\0{date_format}".encode()
    checked = CheckedFile(digest=digest_of(signed), rows=len(rows))
    separator = NEEDS_SEPARATOR
    if kobo:
        try:
            header, rows, misshapen = from_kobo(header, rows)
        except KoboHeaderError as error:
            raise ImportFileError(str(error)) from None
        indices = _column_indices(header)
        checked.problems.extend(misshapen)
        separator = " "  # a select-multiple's choices
    check = partial(
        check_rows, indices, len(header), now, needs_separator=separator, date_format=date_format
    )
    chunks = [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)]
    for chunk in (map_chunks or map)(check, chunks):
        checked.good.extend(chunk.good)
        checked.problems.extend(chunk.problems)
    _flag_duplicates(checked)
    checked.problems.sort(key=lambda p: p.line)
    return checked


def _delimiter(text: str, source: ImportSource) -> str:
    """``,``; or ``;`` for a Kobo export, whose CSV exports separate fields with ``;`` by
    default (a header of names never holds either character)."""
    if source is ImportSource.CAMPLEDGER:
        return ","
    first = text.split("\n", 1)[0]
    return ";" if ";" in first and "," not in first else ","


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


# What only one person may hold, so two lines of one file may not both hold it.
_UNIQUE_COLUMNS = ("registration_number", "biometric_reference", "person_id")


def _flag_duplicates(checked: CheckedFile) -> None:
    """The same registration number, biometric reference or person id on two lines:
    the later line is the bad one (the Registry would refuse the pair anyway)."""
    good = checked.good
    duplicates: set[int] = set()
    for column in _UNIQUE_COLUMNS:
        values = [v for _, fields in good if (v := getattr(fields, column)) is not None]
        if len(set(values)) == len(values):
            continue  # the usual case, found without a loop in Python
        first: dict[Any, int] = {}
        for line, fields in good:
            value = getattr(fields, column)
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
        checked.good = [(line, fields) for line, fields in good if line not in duplicates]


# One row to start a file from; the columns left out are empty in it.
_EXAMPLE = {
    "registration_number": "RC-0001",
    "given_name": "Amina",
    "family_name": "Haroun",
    "sex": "female",
    "nationality": "SDN",
    "date_of_birth": "1990-04-01",
    "household_id": "H-17",
    "relationship": "focal_point",
    "specific_needs": "WR;SM-MN",
    "occurred_at": "2025-03-01T08:30:00+00:00",
}


def arrival_template() -> str:
    """A header row and one example row, to start a file from."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerow(_EXAMPLE)
    return buffer.getvalue()
