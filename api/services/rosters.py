"""A site's roster as every way in reads it: the caller's scope, personal fields only for
roles that may see them, the access trail of every name shown, keyset pages, CSV.

The HTTP route and the console's roster page both read through ``read_roster``, so a
site-scoped account, a role without ``persons:personal`` and an as-of day get the same
rows from either.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from campledger.api.services import safe_csv
from campledger.api.services.access import check_permission, check_scope
from campledger.api.services.access_trail import record_accesses
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import bad_query, not_found
from campledger.domain.model.values import PERSONAL_FIELDS, ScreeningStep
from campledger.projections import occupancy, roster, stays
from campledger.projections.collation import Locale
from campledger.projections.paging import Page
from campledger.projections.roster_rows import RosterOrder

ROSTER_CSV_COLUMNS = (
    "person_id", "registration_number", "site_code", "status", "sex", "age", "age_band",
    "nationality", "household_id", "relationship", "specific_needs", "transfer_id",
    "registered_at", "updated_at",
)  # fmt: skip
# An as-of roster is read from stays, which keep who was where and in what status only.
AS_OF_CSV_COLUMNS = ("person_id", "status")


@dataclass(frozen=True)
class RosterQuery:
    """What a reader asks of a roster: filters, a name, an order, or a past moment."""

    status: str | None = None
    sex: str | None = None
    age_band: str | None = None
    nationality: str | None = None
    specific_need: str | None = None
    household_id: str | None = None
    # As stored (``check_registration_number``): one person, or nobody.
    registration_number: str | None = None
    # Only who has not had this screening step yet (the screening queue).
    without_step: str | None = None
    name: str | None = None
    sort: RosterOrder = RosterOrder.REGISTRATION_NUMBER
    lang: Locale = Locale.EN
    as_of: datetime | None = None
    cursor: str | None = None
    limit: int = 100

    @property
    def by_name(self) -> bool:
        return self.name is not None or self.sort is RosterOrder.NAME

    @property
    def filtered(self) -> bool:
        filters = (self.status, self.sex, self.age_band, self.nationality, self.without_step)
        others = (self.specific_need, self.household_id, self.registration_number)
        return any(f is not None for f in (*filters, *others))


@dataclass(frozen=True)
class RosterRead:
    page: Page
    # Whether the rows carry names, dates of birth and biometric references.
    personal: bool
    as_of: bool

    @property
    def csv_columns(self) -> tuple[str, ...]:
        if self.as_of:
            return AS_OF_CSV_COLUMNS
        return ROSTER_CSV_COLUMNS + (PERSONAL_FIELDS if self.personal else ())


def site_found(found: dict[str, Any] | None, code: str) -> dict[str, Any]:
    if found is None:
        raise not_found("site", f"no site with code {code}")
    return found


def known_site(conn: psycopg.Connection[Any], code: str) -> dict[str, Any]:
    return site_found(occupancy.get_site(conn, code), code)


def read_roster(
    conn: psycopg.Connection[Any],
    principal: Principal,
    code: str,
    query: RosterQuery,
    purpose: str,
) -> RosterRead:
    """A page of who is at the site (present or held), or was at ``query.as_of``; every
    person whose personal data the page shows is put on the access trail under
    ``purpose`` (the way in that showed it)."""
    check_scope(principal, code)
    # A mistyped code must not read as "nobody is at this site".
    known_site(conn, code)
    personal = principal.can(Permission.PERSONAL_DATA)
    if query.by_name:
        # A search or an order by name tells names: it needs what reading them needs.
        check_permission(principal, Permission.PERSONAL_DATA)
    with bad_query():
        if query.as_of is not None and (query.by_name or query.filtered):
            raise ValueError("as_of lists ids and status only: no filter, name or sort with it")
        if query.as_of is not None:
            page = stays.roster_as_of(
                conn, code, query.as_of, after=query.cursor, limit=query.limit
            )
        else:
            page = roster.roster_page(
                conn, code, status=query.status, sex=query.sex, age_band=query.age_band,
                nationality=query.nationality, specific_need=query.specific_need,
                household_id=query.household_id,
                registration_number=query.registration_number, name=query.name, order=query.sort,
                without_step=_step(query.without_step),
                locale=query.lang, after=query.cursor, limit=query.limit,
                include_personal=personal,
            )  # fmt: skip
            if personal:
                record_accesses(conn, principal.actor, [r["person_id"] for r in page.rows], purpose)
    return RosterRead(page, personal, query.as_of is not None)


def _step(step: str | None) -> str | None:
    # An unknown step is refused (400), not read as "nobody has had it".
    return None if step is None else ScreeningStep(step).value


def roster_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Iterator[str]:
    buffer = io.StringIO()
    # Names, household ids and biometric references are typed in the field: safe_csv
    # keeps a spreadsheet from running them as formulas.
    writer = safe_csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([";".join(v) if isinstance(v := row.get(c), list) else v for c in columns])
    yield buffer.getvalue()


def roster_csv_headers(code: str, page: Page) -> dict[str, str]:
    headers = {"Content-Disposition": f'attachment; filename="roster-{code}.csv"'}
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    return headers
