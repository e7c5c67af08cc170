"""Planning a transfer: from one of the officer's sites to another site, with a vehicle,
an order reference and the people, ticked on the origin's roster or typed (pasted or
scanned) by registration number.

The people are read through the roster's own service (``api/services/rosters.py``): the
officer's sites only, names only for roles that may see them, each name shown put on the
access trail. A typed number is found on the origin's roster or refused, by name, next to
the field. Whoever is held travels in custody: the domain decides it from the person, and
refuses a held person bound for a site that cannot keep custody.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from campledger.api.console.forms import (
    FIELD_LIMIT,
    FormRefused,
    Key,
    Problem,
    Text,
    new_form_key,
    require,
    sent_form,
    submit_fields,
)
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import CONSOLE, read_connection, refusals
from campledger.api.console.rendering import render
from campledger.api.console.transfer_forms import Numbers, Ticked
from campledger.api.console.transfer_manifest import TRANSFER_PATH
from campledger.api.console.transfer_selection import BANDS, SEXES, STATUSES, Selection
from campledger.api.console.transfer_words import (
    NOBODY,
    NOT_ON_ROSTER,
    named,
    stored_number,
    ticked_ids,
    typed_numbers,
)
from campledger.api.services.auth import Principal
from campledger.api.services.rosters import RosterQuery, read_roster
from campledger.api.services.scoping import within
from campledger.domain.commands import PlanTransfer
from campledger.projections import occupancy, roster_numbers

router = APIRouter()

PLAN_PATH = "/transfers/new"
PAGE_SIZE = 100

# The domain's refusals (by code, or by their first words) and the field each concerns.
PLAN_FIELDS = {
    "person-not-at-site": "numbers",
    "person-held": "numbers",
    "person-on-another-manifest": "numbers",
    "person-not-found": "numbers",
    "person-departed": "numbers",
    "person-merged": "numbers",
    "person-in-transit": "numbers",
    "person-unaccounted-for": "numbers",
    "batch-too-large": "numbers",
    "a manifest": "numbers",
    "site-not-found": "destination",
    "site-closed": "destination",
    "origin and destination": "destination",
    "vehicle": "vehicle",
    "order reference": "order_reference",
}


# A link may fill in the form (a household's member to bring home): a field's worth of
# text at most, and registration numbers, never a name (a URL ends up in logs).
Prefill = Annotated[str, Query(max_length=FIELD_LIMIT)]


@router.get(PLAN_PATH)
def new_transfer(
    request: Request,
    origin: str = "",
    destination: Prefill = "",
    numbers: Prefill = "",
    cursor: str | None = None,
    tick: str = "",
) -> Response:
    """The form, filled in from the link that opened it: only a prefill, every value is
    checked when the form is sent. ``tick=listed`` ticks everyone the page lists."""
    require(request, PlanTransfer)
    sent = {"origin": origin.strip(), "destination": destination.strip(), "numbers": numbers}
    selection = Selection.of(request.query_params)
    return plan_form(request, sent, [], selection, cursor=cursor, tick_listed=tick == "listed")


@router.post(PLAN_PATH)
async def plan(
    request: Request,
    origin: Text = "",
    destination: Text = "",
    vehicle: Text = "",
    order_reference: Text = "",
    numbers: Numbers = "",
    person: Ticked | None = None,
    form_key_sent: Key = "",
) -> Response:
    # First, so that a role that may not plan is refused (403) whatever it ticked.
    reader = require(request, PlanTransfer)
    ticked = ticked_ids(person)
    sent = {
        "origin": origin, "destination": destination, "vehicle": vehicle,
        "order_reference": order_reference, "numbers": numbers, "form_key": form_key_sent,
        "persons": " ".join(str(p) for p in ticked),
    }  # fmt: skip
    fields = sent_form(request, PlanTransfer, sent)
    code = fields.text("origin")
    typed: dict[UUID, str | None] = {}
    known: dict[UUID, str | None] = {}
    try:
        if code:
            with read_connection(request) as conn, refusals():
                typed = _resolve(conn, reader, code, numbers, fields.problems)
                known = roster_numbers.registration_numbers(conn, ticked) | typed
        manifest = list(dict.fromkeys([*ticked, *typed]))
        if not manifest and not any(p.field == "numbers" for p in fields.problems):
            fields.problems.append(Problem(NOBODY, "numbers"))
        command = PlanTransfer(
            origin=code,
            destination=fields.text("destination"),
            manifest=manifest,
            vehicle=fields.text("vehicle", required=False),
            order_reference=fields.text("order_reference", required=False),
        )
        result = await submit_fields(request, command, fields, PLAN_FIELDS)
    except FormRefused as refused:
        # Shown again as it was: the same people listed, so the ticks stay where they were.
        selection = Selection.of(await request.form())
        problems = named(refused.problems, known)
        return plan_form(request, sent, problems, selection, status_code=400)
    path = TRANSFER_PATH.format(transfer_id=result.result["transfer_id"])
    return RedirectResponse(f"{path}?done=planned", status_code=303)


def plan_form(
    request: Request,
    sent: dict[str, str],
    problems: list[Problem],
    selection: Selection,
    *,
    cursor: str | None = None,
    tick_listed: bool = False,
    status_code: int = 200,
) -> Response:
    """The planning form: the officer's sites to leave from, the open sites to go to and,
    once an origin is chosen, a page of who is there (as the selection narrows it) to
    tick."""
    reader = require(request, PlanTransfer)
    with read_connection(request) as conn, refusals():
        origins = occupancy.sites_page(conn, within=within(reader), limit=1000).rows
        origins = [site for site in origins if site["is_open"]]
        if not sent.get("origin") and len(origins) == 1:
            sent = sent | {"origin": origins[0]["code"]}
        code = sent.get("origin", "")
        everywhere = occupancy.sites_page(conn, limit=1000).rows
        read = (
            read_roster(conn, reader, code, selection.query(cursor, PAGE_SIZE),
                        CONSOLE + PLAN_PATH)
            if code else None
        )  # fmt: skip
    destinations = [s for s in everywhere if s["is_open"] and s["code"] != code]
    rows = read.page.rows if read else []
    next_cursor = read.page.next_cursor if read else None
    ticked = set(sent.get("persons", "").split())
    if tick_listed:
        ticked |= {str(row["person_id"]) for row in rows if not row["transfer_id"]}
    prefill = {"origin": code, "destination": sent.get("destination"),
               "numbers": sent.get("numbers")}  # fmt: skip
    return render(
        request, "transfer_new.html", status_code,
        sent=sent, problems=problems, origins=origins, destinations=destinations,
        rows=rows, personal=bool(read and read.personal), ticked=ticked,
        selection=selection, statuses=STATUSES, sexes=SEXES, bands=BANDS,
        tick_link=selection.link(**prefill, cursor=cursor, tick="listed"),
        next_link=selection.link(**prefill, cursor=next_cursor) if next_cursor else None,
        form_key=sent.get("form_key") or new_form_key(), **WORDS,
    )  # fmt: skip


def _resolve(
    conn: psycopg.Connection[Any],
    reader: Principal,
    origin: str,
    text: str,
    problems: list[Problem],
) -> dict[UUID, str | None]:
    """The persons the typed numbers name, each found on the origin's roster (as the
    roster's own search finds them); a number not there is refused, naming it."""
    found: dict[UUID, str | None] = {}
    for typed in typed_numbers(text):
        number = stored_number(typed, problems, "numbers")
        if number is None:
            continue
        query = RosterQuery(registration_number=number, limit=1)
        rows = read_roster(conn, reader, origin, query, CONSOLE + PLAN_PATH).page.rows
        if rows:
            found[rows[0]["person_id"]] = number
        else:
            problems.append(Problem(NOT_ON_ROSTER, "numbers", {"number": number, "site": origin}))
    return found
