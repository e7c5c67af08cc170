"""The operation at a glance: every site the account may see, how full it is, who is
held, on the road or missing, families apart, who they are by sex and age, and how
people moved over the last thirty days.

Only counts: no person is named here, so nothing goes on the access trail. The reads
are the API's own read models under the account's site scope (``within``), as the
occupancy, transfer, holds and household routes read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
from babel.dates import format_skeleton
from fastapi import APIRouter, Request
from starlette.responses import Response

from campledger.api.console import charts
from campledger.api.console.i18n import N_, Formats, translations
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import principal, read_connection, refusals
from campledger.api.console.rendering import reader_locale, render
from campledger.api.console.session import console
from campledger.api.services.households_read import separated_page
from campledger.api.services.scoping import within
from campledger.domain.model.values import AGE_BANDS, Sex
from campledger.projections import flows, occupancy, transfers
from campledger.projections.paging import Page

router = APIRouter()

DAYS = 30
# The read models' largest page: an operation has a few dozen sites and transfers open.
_BATCH = 1000
BANDS = [name for name, _, _ in AGE_BANDS]
# The pyramid's two sides; persons of unknown sex are in the table, not the pyramid.
PYRAMID_SIDES = ((Sex.FEMALE, N_("Female")), (Sex.MALE, N_("Male")))
MOVEMENTS = (
    ("arrivals", N_("Arrivals")),
    ("departures", N_("Departures")),
    ("transfers_in", N_("Transfers in")),
    ("transfers_out", N_("Transfers out")),
)


def _every_row(read: Callable[[str | None], Page]) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = read(cursor)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _site_counts(conn: psycopg.Connection[Any], request: Request) -> dict[str, Counter[str]]:
    """Per site: people on the road to it, people never arrived from or to it, and
    separated households with a member there."""
    reader = principal(request)
    sites = within(reader)
    on_road: Counter[str] = Counter()
    for row in _every_row(
        lambda c: transfers.transfers_in_transit(conn, within=sites, after=c, limit=_BATCH)
    ):
        on_road[row["destination"]] += row["manifest_count"] - row["received_count"]
    missing: Counter[str] = Counter()
    for row in _every_row(
        lambda c: transfers.unaccounted_persons(conn, within=sites, after=c, limit=_BATCH)
    ):
        missing[row["destination"]] += 1
    separated: Counter[str] = Counter()
    for row in _every_row(lambda c: separated_page(conn, reader, None, c, _BATCH)):
        separated.update(set(row["sites"]))
    return {"in_transit": on_road, "unaccounted": missing, "separated": separated}


def _movement(
    conn: psycopg.Connection[Any], sites: list[str] | None, today: date
) -> list[dict[str, Any]]:
    """Every day of the last thirty, with the movement of the reader's sites summed."""
    start = today - timedelta(days=DAYS - 1)
    days = {start + timedelta(days=n): Counter[str]() for n in range(DAYS)}
    for row in _every_row(
        lambda c: flows.flows_page(conn, None, start, today, within=sites, after=c, limit=_BATCH)
    ):
        days[row["day"]].update({key: row[key] for key, _ in MOVEMENTS})
    return [
        {"day": day, **{key: count[key] for key, _ in MOVEMENTS}} for day, count in days.items()
    ]


def _charts(
    sites: list[dict[str, Any]], movement: list[dict[str, Any]], formats: Formats
) -> tuple[dict[str, str], str]:
    gettext = translations(formats.locale).gettext

    def number(value: float) -> str:
        return formats.number(abs(int(value)))

    pyramids = {
        site["site_code"]: charts.pyramid(
            BANDS,
            [(gettext(title), [site["by_sex_age"][sex][b] for b in BANDS])
             for sex, title in PYRAMID_SIDES],
            number,
        )
        for site in sites
        if site["total"]
    }  # fmt: skip
    flow = charts.daily_movement(
        [format_skeleton("MMMd", row["day"], locale=formats.locale) for row in movement],
        [(gettext(title), [row[key] for row in movement]) for key, title in MOVEMENTS],
        number,
        right_to_left=formats.direction == "rtl",
    )
    return pyramids, flow


@router.get("/overview")
def overview(request: Request) -> Response:
    reader = principal(request)
    sites_scope = within(reader)
    context = console(request)
    formats = Formats(reader_locale(request), context.zone)
    today = context.now().astimezone(context.zone).date()
    with read_connection(request) as conn, refusals():
        sites = list(
            _every_row(
                lambda c: occupancy.occupancy_page(conn, within=sites_scope, after=c, limit=_BATCH)
            )
        )
        counts = _site_counts(conn, request)
        movement = _movement(conn, sites_scope, today)
    pyramids, flow_chart = _charts(sites, movement, formats)
    totals = {
        "total": sum(s["total"] for s in sites),
        "capacity": sum(s["capacity"] for s in sites),
        "held": sum(s["held"] for s in sites),
        **{key: sum(c.values()) for key, c in counts.items()},
    }
    return render(
        request, "overview.html",
        sites=sites, counts=counts, totals=totals, pyramids=pyramids, bands=BANDS,
        sides=PYRAMID_SIDES, movement=movement, movements=MOVEMENTS, flow_chart=flow_chart,
        first_day=movement[0]["day"], last_day=today, **WORDS,
    )  # fmt: skip
