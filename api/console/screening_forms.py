"""Recording a screening step and releasing a hold, from the screening queue.

Each form sends its command through the catalogue (``api/console/forms.py``), so a
screener scoped to some sites screens and releases only the people there, exactly as
over the API. A 'held' outcome asks for what the API asks of it (``ScreeningCreate``): the
deciding authority and the order's reference, and optionally a review date.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from campledger.api.console.forms import FormRefused, Key, Text, sent_form, submit_fields
from campledger.api.console.screening import PERSON_PATH, Queue, person_page, queue_path
from campledger.domain.commands import RecordScreeningStep, ReleasePerson
from campledger.domain.model.values import ScreeningOutcome

router = APIRouter()


# The domain's refusals (by code, or by their first words) and the field each concerns.
STEP_FIELDS = {
    "invalid-screening-step": "step",
    "invalid-screening-outcome": "outcome",
    "reason": "reason",
    "authority": "authority",
    "order reference": "order_reference",
    "an authority, order reference or review date": "outcome",
    "a hold's review date": "review_date",
}
RELEASE_FIELDS = {
    "reason": "release_reason",
    "authority": "release_authority",
    "order reference": "release_order_reference",
}


@router.post(PERSON_PATH + "/steps")
async def record_step(
    request: Request,
    person_id: UUID,
    step: Text = "",
    outcome: Text = "",
    reason: Text = "",
    authority: Text = "",
    order_reference: Text = "",
    review_date: Text = "",
    queue: Text = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {
        "form": "step", "step": step, "outcome": outcome, "reason": reason,
        "authority": authority, "order_reference": order_reference,
        "review_date": review_date, "form_key": form_key_sent,
    }  # fmt: skip
    fields = sent_form(request, RecordScreeningStep, sent)
    # The API refuses a 'held' outcome without its order: so does the form, by field.
    held = outcome == ScreeningOutcome.HELD
    try:
        command = RecordScreeningStep(
            person_id=person_id,
            step=fields.text("step"),
            outcome=fields.text("outcome"),
            reason=fields.text("reason", required=False),
            authority=fields.text("authority", required=held),
            order_reference=fields.text("order_reference", required=held),
            review_date=fields.day("review_date"),
        )
        await submit_fields(request, command, fields, STEP_FIELDS)
    except FormRefused as refused:
        return person_page(
            request, person_id, Queue.carried(queue), sent, refused.problems, status_code=400
        )
    done = "held" if held else "step-recorded"
    return RedirectResponse(queue_path(Queue.carried(queue), done=done), status_code=303)


@router.post(PERSON_PATH + "/release")
async def release(
    request: Request,
    person_id: UUID,
    reason: Text = "",
    authority: Text = "",
    order_reference: Text = "",
    queue: Text = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {
        "form": "release", "release_reason": reason, "release_authority": authority,
        "release_order_reference": order_reference, "form_key": form_key_sent,
    }  # fmt: skip
    fields = sent_form(request, ReleasePerson, sent)
    try:
        # As over the API, the order of a release may follow later: the reason may not.
        command = ReleasePerson(
            person_id=person_id,
            reason=fields.text("release_reason"),
            authority=fields.text("release_authority", required=False),
            order_reference=fields.text("release_order_reference", required=False),
        )
        await submit_fields(request, command, fields, RELEASE_FIELDS)
    except FormRefused as refused:
        return person_page(
            request, person_id, Queue.carried(queue), sent, refused.problems, status_code=400
        )
    return RedirectResponse(queue_path(Queue.carried(queue), done="released"), status_code=303)
