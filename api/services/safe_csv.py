"""CSV that a spreadsheet opens as data, never as formulas (OWASP's CSV injection).

Rosters, the audit log, the access trail and the HXL exports are opened in Excel or
LibreOffice by camp managers and partners. A name, household id or site name such as
``=HYPERLINK("http://…", "click")`` or ``@SUM(…)`` typed at registration would run there
as a formula. Every CSV campledger writes goes through ``writer`` here, which applies
OWASP's two measures to every cell:

- text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single
  quote in front, so the spreadsheet shows it as text (``'=1+1`` displays ``=1+1``);
- every text cell is enclosed in double quotes, so a ``;`` in a value cannot start a new
  cell where a spreadsheet splits on ``;`` (Excel does in French-speaking locales).

Numbers are decided by type, not by look: a value the read model holds as a number (a
count, a capacity, a negative longitude) is written bare and unchanged, so it stays a
number; a value held as text is neutralised even if it looks like a number (a household
id ``-12`` is written ``'-12``), because only the type tells data from a typed-in string.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

# OWASP's list: the characters with which a spreadsheet starts a formula (= + - @) and
# the two whitespace characters that some of them skip before looking for one.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def cell(value: object) -> object:
    """One value as a CSV cell: numbers as they are, nothing as empty, text neutralised."""
    if value is None:
        return ""
    if _is_number(value):
        return value
    # str() is what the csv module itself writes for any other value (UUIDs, dates).
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False  # written as the words True/False, text to a spreadsheet
    if isinstance(value, float):
        # "-inf" and "nan" are words, not numbers, to a spreadsheet: treat them as text.
        return math.isfinite(value)
    return isinstance(value, int | Decimal)


class Writer:
    """``csv.writer`` whose every row, header included, passes through ``cell``."""

    def __init__(self, file: _Writable, *, lineterminator: str = "\r\n") -> None:
        # QUOTE_NONNUMERIC quotes exactly the cells ``cell`` leaves as text.
        self._writer = csv.writer(file, lineterminator=lineterminator, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, values: Iterable[object]) -> None:
        self._writer.writerow([cell(v) for v in values])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: _Writable, *, lineterminator: str = "\r\n") -> Writer:
    """A CSV writer safe to open in a spreadsheet; the only way campledger writes CSV."""
    return Writer(file, lineterminator=lineterminator)
