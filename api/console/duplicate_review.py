"""Deciding a likely duplicate from its pair page: merge the two records, keeping the one
the reviewer chooses, or dismiss the pair as two people.

Each form sends its command through the catalogue (``api/console/forms.py``), under the
permissions of the API's routes for it (``merges:write``, ``duplicates:review``) and the
scope of both records, as the signed-in account. Once either is recorded, the read model
drops the pair, and the list the reviewer is sent back to no longer shows it.
"""

from __future__ import annotations

import dataclasses
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from campledger.api.console.duplicates import PAIR_PATH, pair_page
from campledger.api.console.forms import FormRefused, Key, Problem, Text, sent_form, submit_fields
from campledger.domain.commands import DismissDuplicate, MergePersons

router = APIRouter()


@router.post(PAIR_PATH + "/merge")
async def merge(
    request: Request,
    person_id: UUID,
    other_id: UUID,
    survivor: Text = "",
    reason: Text = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {
        "form": "merge",
        "survivor": survivor,
        "merge_reason": reason,
        "form_key": form_key_sent,
    }
    fields = sent_form(request, MergePersons, sent)
    try:
        kept = fields.text("survivor")
        if kept and kept not in (str(person_id), str(other_id)):
            raise HTTPException(400)  # the form offers only the pair's two records
        why = fields.text("merge_reason")
        fields.check()  # before the survivor chosen is read as an id
        survivor_id = UUID(kept)
        duplicate_id = other_id if survivor_id == person_id else person_id
        command = MergePersons(duplicate_id=duplicate_id, survivor_id=survivor_id, reason=why)
        await submit_fields(request, command, fields, {"reason": "merge_reason"})
    except FormRefused as refused:
        problems = _placed(refused.problems, "survivor")
        return pair_page(request, person_id, other_id, sent, problems, status_code=400)
    return RedirectResponse("/duplicates?done=merged", status_code=303)


@router.post(PAIR_PATH + "/dismiss")
async def dismiss(
    request: Request,
    person_id: UUID,
    other_id: UUID,
    reason: Text = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {"form": "dismiss", "dismiss_reason": reason, "form_key": form_key_sent}
    fields = sent_form(request, DismissDuplicate, sent)
    try:
        command = DismissDuplicate(
            person_id=person_id, other_id=other_id, reason=fields.text("dismiss_reason")
        )
        await submit_fields(request, command, fields, {"reason": "dismiss_reason"})
    except FormRefused as refused:
        problems = _placed(refused.problems, "dismiss_reason")
        return pair_page(request, person_id, other_id, sent, problems, status_code=400)
    return RedirectResponse("/duplicates?done=dismissed", status_code=303)


def _placed(problems: list[Problem], field: str) -> list[Problem]:
    """A refusal of the records themselves (one has left, or is on the road) is shown at
    the form's first field."""
    return [p if p.field else dataclasses.replace(p, field=field) for p in problems]
