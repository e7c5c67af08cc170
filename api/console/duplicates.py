"""Likely duplicates: the pairs a reviewer's scope covers, with score and reasons, and
the two names side by side for a role that may see them (each record shown put on the
access trail, as opening it over the API would); and a pair's page, the two records side
by side, with the forms that merge them or dismiss the pair (``duplicate_review.py``).
The reads are the API's (``api/services/duplicates_read.py``, ``persons_read.py``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from campledger.api.console.forms import Problem, may_send, new_form_key
from campledger.api.console.i18n import N_
from campledger.api.console.person_words import PERSONAL_NAMES, WORDS
from campledger.api.console.reading import (
    CONSOLE,
    principal,
    read_connection,
    refusals,
    registry,
)
from campledger.api.console.rendering import render
from campledger.api.console.session import console, signed_in
from campledger.api.services.auth import Permission
from campledger.api.services.duplicates_read import candidates_page, with_names
from campledger.api.services.persons_read import read_person
from campledger.api.services.problems import ApiProblem
from campledger.api.services.scoping import within
from campledger.domain.commands import DismissDuplicate, MergePersons
from campledger.domain.model.values import PERSONAL_FIELDS
from campledger.projections import duplicates, occupancy

router = APIRouter()

PAIR_PATH = "/duplicates/{person_id}/{other_id}"
DONE = {
    "merged": N_("The two records are merged into the one kept."),
    "dismissed": N_("The pair is recorded as two people: it is not proposed again."),
}
# What the pair page compares, in its order: names and date of birth only for a role that
# may see personal data.
PERSONAL_COMPARED = tuple((name, PERSONAL_NAMES[name]) for name in PERSONAL_FIELDS)
COMPARED = (
    ("registration_number", N_("Registration number")),
    ("status", N_("Status")),
    ("site_code", N_("Site")),
    ("sex", N_("Sex")),
    ("age", N_("Age")),
    ("nationality", N_("Nationality")),
    ("household_id", N_("Household")),
    ("relationship", N_("Relationship in the household")),
    ("registered_at", N_("Registered")),
)

PAGE_SIZE = 25
# The console's reads are named by its own path on the access trail, so an auditor tells
# a read in the console from one through the API.
PURPOSE = "console /duplicates"


# The read model writes its reasons in English ("name 0.93, same sex, birth year ±1"):
# each is shown in the reader's language, its number in the reader's digits.
_REASONS = {
    "same sex": N_("same sex"),
    "same date of birth": N_("same date of birth"),
    "dates of birth one slip apart": N_("dates of birth one slip apart"),
    "same birth year": N_("same birth year"),
    "same household": N_("same household"),
}
_NUMBERED = (
    (re.compile(r"name (\d+(?:\.\d+)?)"), N_("names alike: %(value)s")),
    (re.compile(r"birth year ±(\d+)"), N_("birth year ±%(value)s")),
)


def reasons(text: str) -> list[tuple[str, float | None]]:
    """Each reason of a pair as (message, its number or None); one not known as it is."""
    found: list[tuple[str, float | None]] = []
    for reason in (part.strip() for part in text.split(",") if part.strip()):
        if reason in _REASONS:
            found.append((_REASONS[reason], None))
            continue
        for pattern, message in _NUMBERED:
            if matched := pattern.fullmatch(reason):
                found.append((message, float(matched.group(1))))
                break
        else:
            found.append((reason, None))
    return found


@router.get("/duplicates")
def likely_duplicates(
    request: Request, site: str = "", cursor: str = "", done: str = ""
) -> Response:
    reader = signed_in(request).account.principal
    with console(request).pool.connection() as conn:
        try:
            page = candidates_page(conn, reader, site or None, cursor or None, PAGE_SIZE)
        except ApiProblem as problem:
            raise HTTPException(403 if problem.status == 403 else 400) from None
        pairs = with_names(conn, reader, page.rows, PURPOSE)
        sites = occupancy.sites_page(conn, within=within(reader), limit=1000).rows
    next_link = urlencode(
        {k: v for k, v in {"site": site, "cursor": page.next_cursor}.items() if v}
    )
    return render(
        request, "duplicates.html",
        pairs=[{**pair, "reasons": reasons(pair["reasons"])} for pair in pairs],
        sites=sites, site=site, personal=reader.can(Permission.PERSONAL_DATA),
        next_link=next_link if page.next_cursor else None, done=DONE.get(done),
    )  # fmt: skip


@router.get(PAIR_PATH)
def pair(request: Request, person_id: UUID, other_id: UUID) -> Response:
    return pair_page(request, person_id, other_id)


def pair_page(
    request: Request,
    person_id: UUID,
    other_id: UUID,
    sent: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """Two records side by side, what differs marked, and the forms that merge them or
    dismiss the pair (``duplicate_review.py``); drawn again with what was sent when
    refused. Each record is read as the person page reads it: in the reader's scope, names
    only for a role that may see them, and each such view on the access trail."""
    reader = principal(request)
    sent = sent or {}
    with read_connection(request) as conn, refusals():
        proposed = duplicates.candidate(conn, person_id, other_id)
        records = [
            read_person(conn, registry(request), reader, pid, CONSOLE + PAIR_PATH)
            for pid in (person_id, other_id)
        ]
    personal = reader.can(Permission.PERSONAL_DATA)
    return render(
        request, "duplicate_pair.html", status_code,
        records=records, rows=compared(records, personal), personal=personal,
        proposed=proposed, reasons=reasons(proposed["reasons"]) if proposed else [],
        may_merge=may_send(request, MergePersons), may_dismiss=may_send(request, DismissDuplicate),
        sent=sent, problems=problems or [],
        merge_key=sent["form_key"] if sent.get("form") == "merge" else new_form_key(),
        dismiss_key=sent["form_key"] if sent.get("form") == "dismiss" else new_form_key(),
        **WORDS,
    )  # fmt: skip


def compared(records: list[dict[str, Any]], personal: bool) -> list[dict[str, Any]]:
    """Each detail of the two records, and whether they differ."""
    shown = COMPARED + (PERSONAL_COMPARED if personal else ())
    return [
        {"field": name, "label": label, "values": [r.get(name) for r in records],
         "differs": records[0].get(name) != records[1].get(name)}
        for name, label in shown
    ]  # fmt: skip
