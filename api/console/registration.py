"""Registering a truckload: a grid a registrar fills household by household from the
keyboard, saved at once through the catalogue's ``RegisterArrivals`` (all of it, or none).

Each row is one person. "Add a member" and "Next household" draw a new row (htmx fetches
just the row; without script the form is sent and drawn again, one row longer), and each
row is checked by the domain when it changes (``truckload.check_row``). Saving sends every
filled row as one batch under the form's key: a refused batch comes back with each bad
item's problem on its row, next to its field, and nothing written. After the save, the
confirmation lists the new records the duplicates model pairs with one already recorded,
for a reviewer to look at: flagged, never blocking.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from campledger.api.console import truckload
from campledger.api.console.forms import (
    FORM_KEY,
    FormRefused,
    Problem,
    form_key,
    may_send,
    new_form_key,
    require,
    submit,
)
from campledger.api.console.person_words import RELATIONSHIP_NAMES, SEX_NAMES
from campledger.api.console.reading import principal, read_connection, refusals, registry
from campledger.api.console.registration_words import CODE_COLUMNS, COLUMN_HINTS, COLUMN_NAMES
from campledger.api.console.rendering import render
from campledger.api.console.truckload import COLUMNS, GRID_ROWS, Row
from campledger.api.database.recorder import CampledgerRecorder
from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission
from campledger.api.services.duplicates_read import pairs_with
from campledger.api.services.rosters import known_site
from campledger.api.services.scoping import within
from campledger.domain.commands import RegisterArrivals
from campledger.domain.service.claims import BIOMETRIC_REFERENCE, REGISTRATION_NUMBER
from campledger.projections import occupancy

router = APIRouter()

PATH = "/register"
# Household ids the grid proposes: short enough to read aloud, unambiguous letters only.
_HOUSEHOLD_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_household_id() -> str:
    return "HH-" + "".join(secrets.choice(_HOUSEHOLD_LETTERS) for _ in range(8))


@router.get(PATH)
def register_page(request: Request, site: str = "") -> Response:
    reader = require(request, RegisterArrivals)
    with read_connection(request) as conn, refusals():
        sites = [
            s
            for s in occupancy.sites_page(conn, within=within(reader), limit=1000).rows
            if s["is_open"]
        ]
        if not site and len(sites) == 1:
            site = sites[0]["code"]
        chosen = _site(request, conn, site) if site else None
    return grid_page(request, chosen, sites, [first_row()], [], new_form_key())


@router.post(PATH, form_limits={"max_fields": truckload.FORM_FIELDS})
async def save_truckload(request: Request) -> Response:
    require(request, RegisterArrivals)
    sent = await request.form()
    site_code = _text(sent.get("site"))
    key = form_key({FORM_KEY: _text(sent.get(FORM_KEY))})
    with read_connection(request) as conn, refusals():
        site = _site(request, conn, site_code)
    rows = truckload.read_rows(sent)
    adding = _text(sent.get("add"))
    if adding:
        # Without script, "Add a member" and "Next household" send the form: drawn again,
        # one row longer, nothing saved.
        rows.append(_next_row(rows, adding))
        focus = truckload.name(rows[-1].number, "relationship")
        return grid_page(request, site, [], rows, [], key, focus=focus)
    people = truckload.filled(rows)
    problems = _whole(people)
    if problems:
        return grid_page(request, site, [], rows, problems, key, status_code=400)
    arrivals = []
    for row in people:
        arrival, unread = truckload.read_arrival(row)
        arrivals.append(arrival)
        problems.extend(unread)
    try:
        if problems:
            raise FormRefused(problems)
        command = RegisterArrivals(site_code=site["code"], arrivals=arrivals)
        await submit(request, command, key)
    except FormRefused as refused:
        found = truckload.batch_problems(people, refused.problems)
        return grid_page(request, site, [], rows, found or refused.problems, key, status_code=400)
    return RedirectResponse(f"{PATH}/saved?site={site['code']}&batch={key}", status_code=303)


def _whole(people: Sequence[Row]) -> list[Problem]:
    if not people:
        return [Problem(truckload.NO_ROWS)]
    if len(people) > GRID_ROWS:
        return [Problem(truckload.TOO_MANY_ROWS, values={"limit": GRID_ROWS})]
    return []


@router.get(f"{PATH}/row")
def new_row(request: Request) -> Response:
    """The row "Add a member" (same household) or "Next household" adds, after the last
    one, whose household field the request carries (its name gives the row's number)."""
    require(request, RegisterArrivals)
    rows = truckload.read_rows(request.query_params)
    row = _next_row(rows, request.query_params.get("add", "member"))
    return render(
        request, "register_row_fragment.html", row=row, problems=[],
        focus=truckload.name(row.number, "relationship"), **grid_words(),
    )  # fmt: skip


def first_row() -> Row:
    return Row(0, {"household_id": new_household_id(), "relationship": "focal_point"})


def _next_row(rows: Sequence[Row], adding: str) -> Row:
    last = rows[-1] if rows else None
    number = last.number + 1 if last else 0
    if number > truckload.LAST_ROW:
        raise HTTPException(400)
    household = last.get("household_id") if last and adding == "member" else ""
    if not household:
        return Row(number, first_row().values)
    return Row(number, {"household_id": household})


@router.post(f"{PATH}/check")
async def check_row(request: Request, row: int = 0) -> Response:
    """One row checked as it is typed: the domain's rules, and whether its registration
    number or biometric reference is already recorded (an exact duplicate, refused)."""
    require(request, RegisterArrivals)
    rows = [r for r in truckload.read_rows(await request.form()) if r.number == row]
    found = rows[0] if rows else Row(row)
    problems = [] if found.blank else truckload.check_row(found, registry(request).clock().date())
    if not problems and not found.blank:
        problems = _taken(request, found)
    return render(request, "register_check.html", row=found, problems=problems, columns=COLUMNS)


def _taken(request: Request, row: Row) -> list[Problem]:
    recorder = registry(request).recorder
    if not isinstance(recorder, CampledgerRecorder):
        return []
    find = recorder.find_claims
    arrival, _ = truckload.read_arrival(row)
    valid = arrival.validate(registry(request).clock().date())
    problems = []
    for scope, column, value in (
        (REGISTRATION_NUMBER, "registration_number", valid.registration_number),
        (BIOMETRIC_REFERENCE, "biometric_reference", valid.biometric_reference),
    ):
        if value and find(scope, [value]):
            code = f"duplicate-{scope.replace('_', '-')}"
            problems.append(truckload.refusal(row.number, code, f"{column} already recorded"))
    return problems


@router.get(f"{PATH}/saved")
def saved(request: Request, site: str = "", batch: str = "") -> Response:
    """What the save did: how many were registered and which of them the duplicates model
    pairs with a record already there, for review. Only the account that saved the batch
    finds it (its results are kept under its name and the form's key)."""
    reader = require(request, RegisterArrivals)
    key = form_key({FORM_KEY: batch})
    recorder = registry(request).recorder
    if not isinstance(recorder, CampledgerRecorder):
        raise HTTPException(404)
    results = recorder.find_results(reader.actor, RegisterArrivals.command_name, key)
    if not results:
        raise HTTPException(404)
    person_ids = [UUID(p) for p in results[0].get("person_ids", ())]
    with read_connection(request) as conn, refusals():
        chosen = _site(request, conn, site)
        pairs = pairs_with(conn, reader, person_ids)
    return render(
        request, "register_saved.html", site=chosen, count=len(person_ids), pairs=pairs,
    )  # fmt: skip


def _site(request: Request, conn: Any, code: str) -> dict[str, Any]:
    check_scope(require(request, RegisterArrivals), code)
    return known_site(conn, code)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def grid_words() -> dict[str, Any]:
    return {
        "columns": COLUMNS,
        "column_names": COLUMN_NAMES,
        "column_hints": COLUMN_HINTS,
        "code_columns": CODE_COLUMNS,
        "sex_names": SEX_NAMES,
        "relationship_names": RELATIONSHIP_NAMES,
    }


def grid_page(
    request: Request,
    site: dict[str, Any] | None,
    sites: list[dict[str, Any]],
    rows: list[Row],
    problems: list[Problem],
    key: str,
    *,
    focus: str = "",
    upload: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The registration page: the site, the grid as sent (or fresh), and the upload."""
    return render(
        request, "register.html", status_code,
        site=site, sites=sites, rows=rows, problems=problems, form_key=key, limit=GRID_ROWS,
        focus=focus, may_import=principal(request).can(Permission.IMPORTS_WRITE),
        upload=upload, may_register=may_send(request, RegisterArrivals), **grid_words(),
    )  # fmt: skip
