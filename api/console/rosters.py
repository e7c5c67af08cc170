"""Rosters: the sites an account may see, and who is at each one, searched, filtered,
sorted by name in the reader's language, a page at a time, as of a past day, and as CSV.

Every read goes through ``api/services/rosters.py``, the API's own: the site scope, the
names only for roles that may see them, and each name shown put on the access trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from campledger.api.console.forms import may_send
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import (
    CONSOLE,
    end_of_day,
    principal,
    query_string,
    read_connection,
    refusals,
)
from campledger.api.console.rendering import reader_locale, render
from campledger.api.services.auth import Permission
from campledger.api.services.rosters import (
    RosterQuery,
    RosterRead,
    known_site,
    read_roster,
    roster_csv,
    roster_csv_headers,
)
from campledger.api.services.scoping import within
from campledger.domain.commands import OpenSite
from campledger.domain.model import errors
from campledger.domain.model.registration_numbers import check_registration_number
from campledger.domain.model.values import AGE_BANDS, PersonStatus, Sex
from campledger.projections import occupancy, roster_numbers
from campledger.projections.collation import Locale
from campledger.projections.paging import Page
from campledger.projections.roster_rows import RosterOrder

router = APIRouter()

# A hundred people a page, as the API's roster benchmark reads them (issue 14's target).
PAGE_SIZE = 100
# The CSV is the whole roster, read a thousand at a time (the read model's largest page).
CSV_PAGE_SIZE = 1000
ROSTER_PATH = "/sites/{code}/roster"
BANDS = [name for name, _, _ in AGE_BANDS]
# The statuses a roster lists: who is at the site, and who left it.
ROSTER_STATUSES = [PersonStatus.PRESENT, PersonStatus.HELD, PersonStatus.DEPARTED]


@dataclass(frozen=True)
class RosterForm:
    """The roster's controls as the URL carries them, so a view can be shared and printed."""

    name: str = ""
    number: str = ""
    status: str = ""
    sex: str = ""
    age_band: str = ""
    nationality: str = ""
    specific_need: str = ""
    household_id: str = ""
    sort: str = ""
    as_of: date | None = None

    @classmethod
    def of(cls, request: Request) -> RosterForm:
        given = request.query_params
        fields = {k: given.get(k, "").strip() for k in cls.__dataclass_fields__ if k != "as_of"}
        try:
            as_of = date.fromisoformat(given["as_of"]) if given.get("as_of") else None
        except ValueError:
            as_of = None
        return cls(**fields, as_of=as_of)

    def query(self, request: Request, cursor: str | None, limit: int) -> RosterQuery:
        if self.as_of is not None:
            # A past day's roster is who was there and in what status: nothing else applies.
            return RosterQuery(as_of=end_of_day(self.as_of, request), cursor=cursor, limit=limit)
        return RosterQuery(
            status=self.status or None,
            sex=self.sex or None,
            age_band=self.age_band or None,
            nationality=self.nationality.upper() or None,
            specific_need=self.specific_need.upper() or None,
            household_id=self.household_id or None,
            registration_number=self._number(),
            name=self.name or None,
            sort=RosterOrder.NAME if self.sort == "name" else RosterOrder.REGISTRATION_NUMBER,
            lang=Locale.AR if reader_locale(request) == "ar" else Locale.EN,
            cursor=cursor,
            limit=limit,
        )

    def _number(self) -> str | None:
        if not self.number:
            return None
        try:
            return check_registration_number(self.number)
        except errors.DomainError:
            # A number no registration could hold finds nobody, as the name search does.
            return self.number

    def link(self, **changed: Any) -> str:
        values = {k: getattr(self, k) for k in self.__dataclass_fields__} | changed
        if values.get("as_of") is not None:
            values["as_of"] = values["as_of"].isoformat()
        return query_string(values)


@router.get("/sites")
def sites(request: Request, cursor: str | None = None) -> Response:
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        page = occupancy.sites_page(conn, within=within(reader), after=cursor, limit=100)
    return render(
        request, "sites.html",
        sites=page.rows, next_cursor=page.next_cursor, may_manage=may_send(request, OpenSite),
    )  # fmt: skip


@router.get(ROSTER_PATH)
def site_roster(request: Request, code: str, cursor: str | None = None) -> Response:
    form = RosterForm.of(request)
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        read = read_roster(
            conn, reader, code, form.query(request, cursor, PAGE_SIZE), CONSOLE + ROSTER_PATH
        )
        site = known_site(conn, code)
        # A past day's roster is ids and statuses (the API's); a person is found by number.
        numbers = (
            roster_numbers.registration_numbers(conn, [row["person_id"] for row in read.page.rows])
            if read.as_of
            else {}
        )
    return render(
        request, "roster.html",
        site=site, form=form, read=read, rows=read.page.rows, numbers=numbers,
        next_link=form.link(cursor=read.page.next_cursor) if read.page.next_cursor else None,
        csv_link=form.link(), statuses=ROSTER_STATUSES, sexes=list(Sex), bands=BANDS,
        may_search_names=reader.can(Permission.PERSONAL_DATA), **WORDS,
    )  # fmt: skip


@router.get(ROSTER_PATH + ".csv")
def site_roster_csv(request: Request, code: str) -> Response:
    form = RosterForm.of(request)
    reader = principal(request)
    pages: list[RosterRead] = []
    cursor = None
    with read_connection(request) as conn, refusals():
        while True:
            query = form.query(request, cursor, CSV_PAGE_SIZE)
            pages.append(read_roster(conn, reader, code, query, CONSOLE + ROSTER_PATH + ".csv"))
            cursor = pages[-1].page.next_cursor
            if cursor is None:
                break
    rows = [row for read in pages for row in read.page.rows]
    headers = roster_csv_headers(code, Page(rows, None))
    return StreamingResponse(
        roster_csv(rows, pages[0].csv_columns), media_type="text/csv", headers=headers
    )
