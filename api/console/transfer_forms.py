"""The actions on a transfer, from its page: the origin dispatches or cancels it (with a
reason), the destination checks people in by ticking them on the manifest or by typing
or scanning their registration numbers, and either end reconciles it, after which
whoever was not received is unaccounted for.

Each form sends its command through the catalogue (``api/console/forms.py``), so an
officer scoped to some sites acts only on their end of a transfer, exactly as over the
API. A refusal about one person names them by the number that was ticked or typed.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from campledger.api.console.forms import (
    FormRefused,
    Key,
    Problem,
    Text,
    require,
    sent_form,
    submit_fields,
)
from campledger.api.console.reading import principal, read_connection, refusals
from campledger.api.console.transfer_manifest import TRANSFER_PATH, transfer_page
from campledger.api.console.transfer_words import (
    CONFIRM_RECONCILING,
    NAMED,
    NOBODY,
    named,
    stored_number,
    ticked_ids,
    typed_numbers,
)
from campledger.api.services.transfers_read import read_transfer
from campledger.domain.commands import (
    CancelTransfer,
    DispatchTransfer,
    ReceiveTransfer,
    ReconcileTransfer,
)
from campledger.domain.model.transfer import MAX_MANIFEST
from campledger.projections import roster

router = APIRouter()

# A whole manifest's numbers, scanned one a line.
Numbers = Annotated[str, Form(max_length=MAX_MANIFEST * 40)]
Ticked = Annotated[list[str], Form(max_length=MAX_MANIFEST)]

# Every refusal of a receipt is about who was checked in: it is shown at the numbers.
RECEIVE_FIELDS = {
    code: "numbers"
    for code in (
        "person-not-on-manifest", "person-already-received", "invalid-input",
        "person-not-found", "person-merged", "person-departed",
    )
}  # fmt: skip


def _done(transfer_id: UUID, done: str) -> Response:
    path = TRANSFER_PATH.format(transfer_id=transfer_id)
    return RedirectResponse(f"{path}?done={done}", status_code=303)


@router.post(TRANSFER_PATH + "/dispatch")
async def dispatch(request: Request, transfer_id: UUID, form_key_sent: Key = "") -> Response:
    sent = {"form": "dispatch", "form_key": form_key_sent}
    fields = sent_form(request, DispatchTransfer, sent)
    try:
        await submit_fields(request, DispatchTransfer(transfer_id=transfer_id), fields)
    except FormRefused as refused:
        numbers = _manifest_numbers(request, transfer_id)
        problems = named(refused.problems, numbers)
        return transfer_page(request, transfer_id, sent, problems, status_code=400)
    return _done(transfer_id, "dispatched")


@router.post(TRANSFER_PATH + "/cancel")
async def cancel(
    request: Request, transfer_id: UUID, reason: Text = "", form_key_sent: Key = ""
) -> Response:
    sent = {"form": "cancel", "cancel_reason": reason, "form_key": form_key_sent}
    fields = sent_form(request, CancelTransfer, sent)
    try:
        command = CancelTransfer(transfer_id=transfer_id, reason=fields.text("cancel_reason"))
        await submit_fields(request, command, fields, {"reason": "cancel_reason"})
    except FormRefused as refused:
        return transfer_page(request, transfer_id, sent, refused.problems, status_code=400)
    return _done(transfer_id, "cancelled")


# A full manifest ticked is a field a person, beyond Starlette's default of 1,000 fields.
RECEIVE_FORM_FIELDS = MAX_MANIFEST + 8


@router.post(TRANSFER_PATH + "/receive", form_limits={"max_fields": RECEIVE_FORM_FIELDS})
async def receive(
    request: Request,
    transfer_id: UUID,
    numbers: Numbers = "",
    person: Ticked | None = None,
    form_key_sent: Key = "",
) -> Response:
    # First, so that a role that may not receive is refused (403) whatever it ticked.
    require(request, ReceiveTransfer)
    ticked = ticked_ids(person)
    sent = {
        "form": "receive", "numbers": numbers, "form_key": form_key_sent,
        "persons": " ".join(str(p) for p in ticked),
    }  # fmt: skip
    fields = sent_form(request, ReceiveTransfer, sent)
    with read_connection(request) as conn, refusals():
        found = read_transfer(conn, principal(request), transfer_id)
        typed = _resolve(conn, found, numbers, fields.problems)
    on_manifest = {line["person_id"]: line["registration_number"] for line in found["manifest"]}
    try:
        persons = list(dict.fromkeys([*ticked, *typed]))
        if not persons and not fields.problems:
            fields.problems.append(Problem(NOBODY, "numbers"))
        fields.check()
        command = ReceiveTransfer(
            transfer_id=transfer_id, site_code=found["destination"], persons=persons
        )
        await submit_fields(request, command, fields, RECEIVE_FIELDS)
    except FormRefused as refused:
        problems = named(refused.problems, on_manifest | typed)
        return transfer_page(request, transfer_id, sent, problems, status_code=400)
    return _done(transfer_id, "received")


@router.post(TRANSFER_PATH + "/reconcile")
async def reconcile(
    request: Request,
    transfer_id: UUID,
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {"form": "reconcile", "form_key": form_key_sent}
    fields = sent_form(request, ReconcileTransfer, sent)
    try:
        if confirm != "yes":
            fields.problems.append(Problem(CONFIRM_RECONCILING, "confirm"))
        await submit_fields(request, ReconcileTransfer(transfer_id=transfer_id), fields)
    except FormRefused as refused:
        return transfer_page(request, transfer_id, sent, refused.problems, status_code=400)
    return _done(transfer_id, "reconciled")


def _resolve(
    conn: psycopg.Connection[Any], transfer: dict[str, Any], text: str, problems: list[Problem]
) -> dict[UUID, str | None]:
    """The persons the typed numbers name, each with the number typed: by the manifest,
    or, for a number not on it, wherever the person is, so that the domain refuses them
    as not on the manifest. A number nobody has is refused here in the same words."""
    by_number = {line["registration_number"]: line["person_id"] for line in transfer["manifest"]}
    found: dict[UUID, str | None] = {}
    for typed in typed_numbers(text):
        number = stored_number(typed, problems, "numbers")
        if number is None:
            continue
        person = by_number.get(number) or _anywhere(conn, number)
        if person is None:
            problems.append(Problem(NAMED["person-not-on-manifest"], "numbers", {"number": number}))
        else:
            found[person] = number
    return found


def _anywhere(conn: psycopg.Connection[Any], number: str) -> UUID | None:
    # Only an id leaves here, for the domain to refuse: no detail of the person is shown.
    for status in (None, "in_transit", "unaccounted"):
        rows = roster.roster_page(conn, None, status=status, registration_number=number, limit=1)
        if rows.rows:
            person: UUID = rows.rows[0]["person_id"]
            return person
    return None


def _manifest_numbers(request: Request, transfer_id: UUID) -> dict[UUID, str | None]:
    with read_connection(request) as conn, refusals():
        found = read_transfer(conn, principal(request), transfer_id)
    return {line["person_id"]: line["registration_number"] for line in found["manifest"]}
