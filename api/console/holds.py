"""The holds register: who is held, where (or on which transfer), since when, on whose
order, for how many days, and when the hold is next reviewed, overdue reviews first to
the eye. Read through ``api/services/holds_read.py``, as the API's ``/holds``: the same
scope, names only for roles that may see them, each name shown put on the access trail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import (
    CONSOLE,
    principal,
    query_string,
    read_connection,
    refusals,
)
from campledger.api.console.rendering import render
from campledger.api.services.auth import Permission
from campledger.api.services.holds_read import holds_register_page
from campledger.api.services.scoping import within
from campledger.projections import occupancy

router = APIRouter()

PAGE_SIZE = 50
HOLDS_PATH = "/holds"


@router.get(HOLDS_PATH)
def holds_register(
    request: Request, site: str = "", overdue: str = "", cursor: str | None = None
) -> Response:
    reader = principal(request)
    only_overdue = True if overdue == "1" else None
    with read_connection(request) as conn, refusals():
        page = holds_register_page(
            conn, reader, site=site or None, overdue=only_overdue, cursor=cursor,
            limit=PAGE_SIZE, purpose=CONSOLE + HOLDS_PATH,
        )  # fmt: skip
        sites = occupancy.sites_page(conn, within=within(reader), limit=1000).rows
    next_link = query_string({"site": site, "overdue": overdue, "cursor": page.next_cursor})
    return render(
        request, "holds.html",
        holds=page.rows, sites=sites, site=site, overdue=overdue,
        personal=reader.can(Permission.PERSONAL_DATA),
        next_link=next_link if page.next_cursor else None, **WORDS,
    )  # fmt: skip
