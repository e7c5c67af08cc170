"""Spreadsheets (XLSX) that open as typed data in any locale, never as formulas.

A CSV leaves every cell to the spreadsheet's guess, made with the reader's locale: in
French or Arabic settings a ``;`` splits cells, ``1.5`` may be read as a date, and
``2025-03-04`` as March or April. An XLSX cell carries its type, so the exports written
here hold:

- numbers as numbers (counts, capacities, coordinates; ``bool`` and non-finite floats
  are words, as in ``safe_csv``);
- dates and times as real dates, shown as ISO 8601 (``yyyy-mm-dd``, times in UTC), which
  no locale reads two ways;
- every other value as a text cell (UTF-8 throughout, so Arabic names stay as typed).
  Text is never written as a formula: cells go through ``write_string``, and text
  beginning with one of ``safe_csv.FORMULA_TRIGGERS`` also gets the quote prefix, the
  XLSX form of the CSV's leading ``'``: the value stays as typed and the spreadsheet keeps
  it text even when someone edits the cell.

An Arabic reader gets the sheet right to left.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import xlsxwriter

from campledger.api.services.safe_csv import FORMULA_TRIGGERS

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_DATE_FORMAT = "yyyy-mm-dd"
_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Wide enough for a date-time or a p-code; names wrap at the cell's edge anyway.
_COLUMN_WIDTH = 18


def workbook(
    sheet: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    hashtags: Sequence[str] | None = None,
    right_to_left: bool = False,
) -> bytes:
    """One sheet: the header row, the HXL hashtag row if given (row 2, as HXL reads it),
    then one row per row, each cell typed by its value's type."""
    buffer = io.BytesIO()
    # in_memory: no temporary files on the server's disk (they would hold names).
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": _DATE_FORMAT})
    moment = book.add_format({"num_format": _TIME_FORMAT})
    quoted = book.add_format({"quote_prefix": True})
    worksheet = book.add_worksheet(sheet)
    if right_to_left:
        worksheet.right_to_left()
    heading = [headers, *([hashtags] if hashtags is not None else [])]
    for r, names in enumerate(heading):
        for c, name in enumerate(names):
            worksheet.write_string(r, c, name, bold)
    worksheet.freeze_panes(len(heading), 0)
    worksheet.set_column(0, max(len(headers) - 1, 0), _COLUMN_WIDTH)
    for r, row in enumerate(rows, start=len(heading)):
        for c, value in enumerate(row):
            if value is None or value == []:
                continue  # an empty cell, not an empty string
            if _is_number(value):
                worksheet.write_number(r, c, float(value))  # type: ignore[arg-type]
            elif isinstance(value, datetime):
                worksheet.write_datetime(r, c, _utc(value), moment)
            elif isinstance(value, date):
                worksheet.write_datetime(r, c, value, day)
            else:
                text = _text(value)
                style = quoted if text.startswith(FORMULA_TRIGGERS) else None
                worksheet.write_string(r, c, text, style)
    book.close()
    return buffer.getvalue()


def _is_number(value: object) -> bool:
    # safe_csv's rule: the type decides, not the look; True and inf are words.
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int | Decimal)


def _utc(moment: datetime) -> datetime:
    """A spreadsheet has no time zones: every time is written as UTC (the docs say so)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _text(value: object) -> str:
    # A list (specific needs) as the CSV writes it: codes joined by ';'.
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)
