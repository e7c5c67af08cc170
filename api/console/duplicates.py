"""Likely duplicates: the pairs a reviewer's scope covers, with score and reasons, and
the two names side by side for a role that may see them (each record shown put on the
access trail, as opening it over the API would). Read only here: merging and dismissing
are the API's for now. The reads are the API's (``api/services/duplicates_read.py``).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from campledger.api.console.i18n import N_
from campledger.api.console.rendering import render
from campledger.api.console.session import console, signed_in
from campledger.api.services.auth import Permission
from campledger.api.services.duplicates_read import candidates_page, with_names
from campledger.api.services.problems import ApiProblem
from campledger.api.services.scoping import within
from campledger.projections import occupancy

router = APIRouter()

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
def likely_duplicates(request: Request, site: str = "", cursor: str = "") -> Response:
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
        next_link=next_link if page.next_cursor else None,
    )  # fmt: skip
