"""Households separated on the way, and where each member is, under the family-tracing
rule: a site-scoped account that may not trace families sees a family's members at other
sites only counted (``api/services/households_read.py``, as the API reads them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import principal, query_string, read_connection, refusals
from campledger.api.console.rendering import render
from campledger.api.services.households_read import read_household, separated_page
from campledger.api.services.scoping import within
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
        households=households, sites=sites, site=site,
        next_link=next_link if page.next_cursor else None, **WORDS,
    )  # fmt: skip


@router.get("/households/{household_id}")
def household(request: Request, household_id: str) -> Response:
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        found = read_household(conn, reader, household_id)
    return render(request, "household.html", household=found, **WORDS)
