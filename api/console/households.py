"""Households separated on the way, and where each member is, under the family-tracing
rule: a site-scoped account that may not trace families sees a family's members at other
sites only counted (``api/services/households_read.py``, as the API reads them).

To an account that may plan transfers, each member free to travel and away from the
household's home site (``api/services/reunification.py``) is offered a transfer there,
planned from a site of the account's: the plan form opens filled in, to be checked and
sent. Only registration numbers go in its link, never a name.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from campledger.api.console.forms import may_send
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import principal, query_string, read_connection, refusals
from campledger.api.console.rendering import render
from campledger.api.console.transfer_plan import PLAN_PATH
from campledger.api.services.households_read import read_household, separated_page
from campledger.api.services.reunification import Member, reunion
from campledger.api.services.scoping import within
from campledger.domain.commands import PlanTransfer
from campledger.projections import occupancy

router = APIRouter()

# Each household is shown with its members: a short page keeps it quick on a slow link.
PAGE_SIZE = 20


@router.get("/households")
def separated(request: Request, site: str = "", cursor: str | None = None) -> Response:
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        page = separated_page(conn, reader, site or None, cursor, PAGE_SIZE)
        households = [read_household(conn, reader, row["household_id"]) for row in page.rows]
        sites = occupancy.sites_page(conn, within=within(reader), limit=1000).rows
    next_link = query_string({"site": site, "cursor": page.next_cursor})
    return render(
        request, "households.html",
        households=[with_reunion(request, found) for found in households], sites=sites,
        site=site, next_link=next_link if page.next_cursor else None, **WORDS,
    )  # fmt: skip


@router.get("/households/{household_id}")
def household(request: Request, household_id: str) -> Response:
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        found = read_household(conn, reader, household_id)
    return render(request, "household.html", household=with_reunion(request, found), **WORDS)


def with_reunion(request: Request, household: dict[str, Any]) -> dict[str, Any]:
    """The household with what its rows offer the reader: a link to plan each free member's
    transfer home, from a site the reader may plan from, and who is held away from home.

    The home site is worked out from the members the reader sees, so that it never names
    a site the family-tracing rule hides."""
    if not may_send(request, PlanTransfer):
        return household
    reader, found = principal(request), reunion(household["members"])
    links = {
        m["person_id"]: _plan_link(m, found.home)
        for m in found.free
        if reader.covers(m["site_code"]) and m["registration_number"]
    }
    held = {m["person_id"] for m in found.held}
    return {**household, "reunion": {"home": found.home, "links": links, "held": held}}


def _plan_link(member: Member, home: str | None) -> str:
    numbers = member["registration_number"]
    query = {"origin": member["site_code"], "destination": home, "numbers": numbers}
    return f"{PLAN_PATH}?{query_string(query)}"
