"""A person: where they are and in what status, their household and where each member
is, and their whole history as a timeline, as it is known now or was known at a past
time; and finding a person by registration number.

The person is read through ``api/services/persons_read.py``, as ``GET /persons/{id}``
reads them: the same scope, names only for roles that may see them, and each such view on
the access trail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from campledger.api.console.forms import Problem, may_send
from campledger.api.console.person_form_words import CORRECTABLE_NAMES, DONE
from campledger.api.console.person_offers import form_values, offers
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import (
    CONSOLE,
    local_moment,
    principal,
    read_connection,
    refusals,
    registry,
)
from campledger.api.console.rendering import render
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.households_read import read_household
from campledger.api.services.persons_read import read_person
from campledger.api.services.problems import ApiProblem
from campledger.domain.commands import RecordScreeningStep
from campledger.domain.history import person_history
from campledger.domain.model import errors
from campledger.domain.model.registration_numbers import check_registration_number
from campledger.projections import roster

router = APIRouter()

PERSON_PATH = "/persons/{person_id}"


@router.get("/persons")
def find_person(request: Request, number: str = "") -> Response:
    """Find a person by registration number, at the sites the account may see."""
    number = number.strip()
    if number:
        found = _by_number(request, principal(request), number)
        if found is not None:
            return RedirectResponse(f"/persons/{found}", status_code=303)
    return render(request, "persons.html", number=number, searched=bool(number))


def _by_number(request: Request, reader: Principal, number: str) -> UUID | None:
    try:
        stored = check_registration_number(number)
    except errors.DomainError:
        return None
    # A scoped account finds only the people of its sites: a number elsewhere is "nobody".
    sites: list[str | None] = [*sorted(reader.sites)] if reader.scoped else [None]
    with read_connection(request) as conn:
        for site in sites:
            for status in (None, "in_transit", "unaccounted", "departed", "merged"):
                page = roster.roster_page(
                    conn, site, status=status, registration_number=stored, limit=1
                )
                if page.rows:
                    found: UUID = page.rows[0]["person_id"]
                    return found
    return None


@router.get(PERSON_PATH)
def person(request: Request, person_id: UUID, known_at: str = "", done: str = "") -> Response:
    return person_page(request, person_id, known_at=known_at, done=done)


def person_page(
    request: Request,
    person_id: UUID,
    *,
    known_at: str = "",
    done: str = "",
    sent: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> Response:
    """The person, and the forms their reader may send; drawn again with what was sent
    and why it was refused (``person_forms.py``)."""
    reader = principal(request)
    moment = _moment(request, known_at)
    personal = reader.can(Permission.PERSONAL_DATA)
    with read_connection(request) as conn, refusals():
        row = read_person(conn, registry(request), reader, person_id, CONSOLE + PERSON_PATH)
        household = _household(conn, reader, row.get("household_id"))
        history = person_history(
            registry(request), person_id, known_at=moment, include_personal=personal
        )
    forms = form_values(offers(request, row), row, sent or {})
    return render(
        request, "person.html", status_code,
        person=row, personal=personal, household=household, history=history,
        entries=list(reversed(history.entries)), known_at=known_at if moment else "",
        may_screen=may_send(request, RecordScreeningStep), problems=problems or [],
        done=DONE.get(done), correctable_names=CORRECTABLE_NAMES, **forms, **WORDS,
    )  # fmt: skip


def _moment(request: Request, known_at: str) -> datetime | None:
    if not known_at:
        return None
    try:
        return local_moment(datetime.fromisoformat(known_at), request)
    except ValueError:
        raise HTTPException(400) from None


def _household(conn: Any, reader: Principal, household_id: str | None) -> dict[str, Any] | None:
    """The person's household as the account may see it; a role without households:read
    sees none, and a household the account may not open is shown as nobody's."""
    if household_id is None or not reader.can(Permission.HOUSEHOLDS_READ):
        return None
    try:
        return read_household(conn, reader, household_id)
    except ApiProblem:
        return None
