"""The CSV exports as spreadsheets: the same columns, rows and HXL hashtags, typed cells.

Nothing here chooses a column: the HXL tables are ``hxl.table``'s (the ones ``hxl.to_csv``
writes) and a roster from the columns ``RosterRead.csv_columns`` gives the
CSV, so a CSV and an XLSX of the same request always say the same thing.
"""

from __future__ import annotations

from campledger.api.services import xlsx
from campledger.api.services.hxl import Table
from campledger.api.services.rosters import RosterRead
from campledger.projections.collation import Locale
from campledger.projections.paging import Page


def hxl_workbook(sheet: str, table: Table, *, hxl: bool = True) -> bytes:
    """An HXL table as one sheet: headers in row 1, hashtags in row 2 (unless ``hxl`` is
    false), as the HXL standard reads a spreadsheet; a suppressed count is an empty cell."""
    return xlsx.workbook(
        sheet, list(table.headers), table.rows, hashtags=list(table.hashtags) if hxl else None
    )


def roster_workbook(read: RosterRead, lang: Locale) -> bytes:
    """A roster page as one sheet, the CSV's columns; right to left for an Arabic reader."""
    columns = read.csv_columns
    return xlsx.workbook(
        "roster",
        columns,
        ([row.get(c) for c in columns] for row in read.page.rows),
        right_to_left=lang is Locale.AR,
    )


def attachment_headers(filename: str, page: Page | None = None) -> dict[str, str]:
    """Download as ``filename``; a page that is not the last says where the next starts."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if page is not None and page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    return headers
