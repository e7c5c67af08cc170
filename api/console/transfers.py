"""Transfers: those on the road, who never arrived, the transfers planned and reconciled,
and each transfer's manifest. Read through ``api/services/transfers_read.py``, as the
API's ``/transfers``: the reader's sites only, and persons by registration number (a
person's name is one click away, on the person page, which puts it on the access trail)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from campledger.api.console.i18n import N_
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import principal, query_string, read_connection, refusals
from campledger.api.console.rendering import render
from campledger.api.services.scoping import within
from campledger.api.services.transfers_read import VIEWS, read_transfer, transfers_page
from campledger.projections import occupancy

router = APIRouter()

PAGE_SIZE = 50

VIEW_NAMES = {
    "in_transit": N_("In transit"),
    "unaccounted": N_("Unaccounted for"),
    "planned": N_("Planned"),
    "reconciled": N_("Reconciled"),
}

# A transfer's state, and where each person on its manifest is in it.
STATE_NAMES = {
    "planned": N_("Planned"),
    "dispatched": N_("On the road"),
    "reconciled": N_("Reconciled"),
    "cancelled": N_("Cancelled"),
}
MANIFEST_NAMES = {
    "planned": N_("Waiting to leave"),
    "in_transit": N_("In transit"),
    "received": N_("Received"),
    "unaccounted": N_("Unaccounted for"),
    "cancelled": N_("Transfer cancelled"),
    "removed": N_("Taken off the manifest"),
}


@router.get("/transfers")
def transfer_lists(
    request: Request, view: str = "in_transit", site: str = "", cursor: str | None = None
) -> Response:
    if view not in VIEWS:
        raise HTTPException(404)
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        page = transfers_page(
            conn, reader, view=view, site=site or None, cursor=cursor, limit=PAGE_SIZE
        )
        sites = occupancy.sites_page(conn, within=within(reader), limit=1000).rows
    next_link = query_string({"view": view, "site": site, "cursor": page.next_cursor})
    return render(
        request, "transfers.html",
        rows=page.rows, view=view, views=VIEW_NAMES, site=site, sites=sites,
        next_link=next_link if page.next_cursor else None, state_names=STATE_NAMES,
    )  # fmt: skip


@router.get("/transfers/{transfer_id}")
def transfer(request: Request, transfer_id: UUID) -> Response:
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        found = read_transfer(conn, reader, transfer_id)
    return render(
        request, "transfer.html",
        transfer=found, state_names=STATE_NAMES, manifest_names=MANIFEST_NAMES, **WORDS,
    )  # fmt: skip
