"""Transfers: those on the road, who never arrived, the transfers planned and reconciled,
and each transfer's manifest (``transfer_manifest.py``). Read through
``api/services/transfers_read.py``, as the API's ``/transfers``: the reader's sites only,
and persons by registration number. Planning and the actions on a transfer are in
``transfer_plan.py`` and ``transfer_forms.py``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from campledger.api.console.forms import may_send
from campledger.api.console.i18n import N_
from campledger.api.console.reading import principal, query_string, read_connection, refusals
from campledger.api.console.rendering import render
from campledger.api.console.transfer_manifest import TRANSFER_PATH, transfer_page
from campledger.api.console.transfer_words import STATE_NAMES
from campledger.api.services.scoping import within
from campledger.api.services.transfers_read import VIEWS, transfers_page
from campledger.domain.commands import PlanTransfer
from campledger.projections import occupancy

router = APIRouter()

PAGE_SIZE = 50

VIEW_NAMES = {
    "in_transit": N_("In transit"),
    "unaccounted": N_("Unaccounted for"),
    "planned": N_("Planned"),
    "reconciled": N_("Reconciled"),
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
        may_plan=may_send(request, PlanTransfer),
    )  # fmt: skip


@router.get(TRANSFER_PATH)
def transfer(request: Request, transfer_id: UUID, done: str = "") -> Response:
    return transfer_page(request, transfer_id, done=done)
