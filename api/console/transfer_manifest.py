"""A transfer's page: its facts, its manifest as it prints (sheets of ``SHEET`` people,
each with the transfer's order reference and vehicle, then the signature lines), and the
actions its reader may take on it now (``transfer_forms.py``).

An action is offered only to a role that may send its command and whose sites reach the
end of the transfer that acts: the origin dispatches and cancels, the destination
receives, either end reconciles (``api/services/catalogue.py``). Names are shown only to
roles that may see them, each put on the access trail; everyone else reads numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request
from starlette.responses import Response

from campledger.api.console.forms import Problem, may_send, new_form_key
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import CONSOLE, principal, read_connection, refusals
from campledger.api.console.rendering import render
from campledger.api.console.transfer_words import DONE, MANIFEST_NAMES, STATE_NAMES
from campledger.api.services.transfers_read import manifest_names, read_transfer
from campledger.domain.commands import (
    CancelTransfer,
    DispatchTransfer,
    ReceiveTransfer,
    ReconcileTransfer,
)

TRANSFER_PATH = "/transfers/{transfer_id}"
# People a printed sheet of the manifest lists: one A4 page, with room to tick each off.
SHEET = 40
# The forms of a transfer's page, by the ``form`` field each sends back when refused.
FORMS = ("dispatch", "cancel", "receive", "reconcile")


@dataclass(frozen=True)
class Offers:
    """Which actions the reader may take on the transfer now."""

    dispatch: bool = False
    cancel: bool = False
    receive: bool = False
    reconcile: bool = False

    @property
    def any(self) -> bool:
        return self.dispatch or self.cancel or self.receive or self.reconcile


def offers(request: Request, transfer: dict[str, Any]) -> Offers:
    reader = principal(request)
    state, origin, destination = transfer["state"], transfer["origin"], transfer["destination"]
    at_origin = state == "planned" and reader.covers(origin)
    # After reconciliation, whoever is still missing may yet arrive (late) on it.
    arriving = state == "dispatched" or (state == "reconciled" and transfer["unaccounted_count"])
    return Offers(
        dispatch=at_origin and may_send(request, DispatchTransfer),
        cancel=at_origin and may_send(request, CancelTransfer),
        receive=bool(arriving)
        and reader.covers(destination)
        and may_send(request, ReceiveTransfer),
        reconcile=state == "dispatched"
        and (reader.covers(origin) or reader.covers(destination))
        and may_send(request, ReconcileTransfer),
    )


def transfer_page(
    request: Request,
    transfer_id: UUID,
    sent: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    *,
    done: str = "",
    status_code: int = 200,
) -> Response:
    """The transfer's page; drawn again with what was sent when a form on it is refused."""
    sent, problems = sent or {}, problems or []
    reader = principal(request)
    with read_connection(request) as conn, refusals():
        found = read_transfer(conn, reader, transfer_id)
        names = manifest_names(conn, reader, found, CONSOLE + TRANSFER_PATH)
    manifest = found["manifest"]
    sheets = [manifest[start : start + SHEET] for start in range(0, len(manifest), SHEET)]
    # A refused form keeps its key, so that sending it again, corrected, is the same form.
    keys = {
        form: sent["form_key"] if sent.get("form") == form else new_form_key() for form in FORMS
    }
    ticked = set(sent.get("persons", "").split())
    return render(
        request, "transfer.html", status_code,
        transfer=found, sheets=sheets, sheet_size=SHEET, names=names, personal=bool(names),
        offers=offers(request, found), keys=keys, sent=sent, ticked=ticked, problems=problems,
        done=DONE.get(done), state_names=STATE_NAMES, manifest_names=MANIFEST_NAMES, **WORDS,
    )  # fmt: skip
