"""How the roster's rows are shown and paged: the order a page is read in, the cursor's
key for each order, and a row as a reader sees it (age from the birth date's estimate, a
year of birth alone as the year, personal fields only for who may read them)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import sql

from campledger.domain.model.values import (
    PERSONAL_FIELDS,
    YEAR,
    age_band,
    age_on,
    date_of_birth_text,
)
from campledger.projections import paging
from campledger.projections.name_keys import KEY_COLUMNS
from campledger.projections.roster_fold import COLUMNS

PERSONAL_COLUMNS = (*PERSONAL_FIELDS, "birth_date_estimate")

# What a page reads: every column of the roster table but the name keys, which serve
# searching and ordering only and are the bulk of a row (a text array and a byte string
# per locale); without personal data, not the personal columns either. The birth date's
# estimate is read for the age, shown to everyone, and dropped after (``public_row``).
PAGE_COLUMN_NAMES = tuple(c for c in COLUMNS if c not in KEY_COLUMNS)
PAGE_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, PAGE_COLUMN_NAMES))
PAGE_COLUMNS_NOT_PERSONAL = sql.SQL(", ").join(
    sql.Identifier(c)
    for c in PAGE_COLUMN_NAMES
    if c == "birth_date_estimate" or c not in PERSONAL_COLUMNS
)

KIND = "roster"
KEY = (paging.TEXT, paging.ID)
# Sorted by name, the cursor is the last person's id alone: their sort key is read back
# from the row, so no name (personal data) travels in a URL.
BY_NAME_KEY = (paging.ID,)


class RosterOrder(StrEnum):
    REGISTRATION_NUMBER = "registration_number"
    NAME = "name"


def registration_key(row: dict[str, Any]) -> tuple[str, UUID]:
    return row["registration_number"], row["person_id"]


def by_name_key(row: dict[str, Any]) -> tuple[UUID]:
    return (row["person_id"],)


def public_row(row: dict[str, Any], include_personal: bool, today: date) -> dict[str, Any]:
    estimate = row["birth_date_estimate"]
    age = max(0, age_on(estimate, today)) if estimate is not None else None
    row["age"] = age
    row["age_band"] = age_band(age)
    # A year alone is shown as the year (1985), not as 1 January; a full date stays a date.
    if row.pop("date_of_birth_precision", None) == YEAR and row.get("date_of_birth"):
        row["date_of_birth"] = date_of_birth_text(row["date_of_birth"], YEAR)
    for column in KEY_COLUMNS:
        row.pop(column, None)
    if not include_personal:
        for column in PERSONAL_COLUMNS:
            row.pop(column, None)
    return row
