"""Correcting a person's detail and recording their departure, from the person's page.

Each form sends its command through the catalogue (``api/console/forms.py``), so a
registrar scoped to a site corrects only the people there, exactly as over the API. Both
carry the version of the person the page showed, as the API's ``If-Match`` does: a form
sent from a page that someone else's write has made stale is refused, and writes nothing.

A household id whose other members are at sites outside the reader's is family tracing:
as the API asks for ``family_tracing`` in the body, the form asks for it with a box that
only roles allowed to trace families (``households:trace``) are shown.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from campledger.api.console.forms import (
    Fields,
    FormRefused,
    Key,
    Problem,
    Text,
    form_key,
    sent_form,
    submit_fields,
)
from campledger.api.console.i18n import N_
from campledger.api.console.person_offers import may_correct
from campledger.api.console.persons import PERSON_PATH, person_page
from campledger.api.console.reading import principal
from campledger.api.console.refusal_words import REFUSAL_NAMES
from campledger.api.console.session import NotAllowed
from campledger.api.services.auth import Permission
from campledger.domain.commands import CorrectDetail, RecordDeparture

router = APIRouter()

Version = Annotated[str, Form(max_length=20)]

# Details a person always has: left empty, the form says so rather than the domain.
REQUIRED = frozenset({"registration_number", "given_name", "sex", "nationality"})
# The domain's refusals (by code, or by their first words) and the field each concerns;
# any other refusal of a correction concerns the value, but for a stale page's.
CORRECTION_FIELDS = {
    "household-outside-scope": "value",
    "reason": "reason",
    "family tracing": "family_tracing",
    "'": "field",
}
STALE = REFUSAL_NAMES["concurrent-change"]
TRACING_ONLY = N_("Your role sets a household only as family tracing: tick the box.")


@router.post(PERSON_PATH + "/corrections")
async def correct(
    request: Request,
    person_id: UUID,
    field: Text = "",
    value: Text = "",
    reason: Text = "",
    family_tracing: Text = "",
    version: Version = "",
    form_key_sent: Key = "",
) -> Response:
    reader = principal(request)
    if not may_correct(reader):
        raise NotAllowed()
    tracing = family_tracing == "yes"
    if tracing and not reader.can(Permission.FAMILY_TRACING):
        raise NotAllowed()
    sent = {
        "form": "correction", "field": field, "value": value, "reason": reason,
        "family_tracing": family_tracing, "version": version, "form_key": form_key_sent,
    }  # fmt: skip
    # The role is checked above, by what it may correct: the key is checked here.
    form_key(sent)
    fields = Fields(sent)
    try:
        chosen = fields.text("field")
        new_value = _value(fields, chosen)
        if not reader.can(Permission.CORRECTIONS_WRITE) and not tracing:
            fields.problems.append(Problem(TRACING_ONLY, "family_tracing"))
        command = CorrectDetail(
            person_id=person_id, field=chosen, value=new_value, reason=fields.text("reason"),
            family_tracing=tracing, expected_version=_version(version),
        )  # fmt: skip
        await submit_fields(request, command, fields, CORRECTION_FIELDS)
    except FormRefused as refused:
        problems = _placed(refused.problems, "value")
        return person_page(request, person_id, sent=sent, problems=problems, status_code=400)
    return RedirectResponse(f"/persons/{person_id}?done=corrected", status_code=303)


@router.post(PERSON_PATH + "/departure")
async def depart(
    request: Request,
    person_id: UUID,
    reason: Text = "",
    version: Version = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {
        "form": "departure", "departure_reason": reason, "version": version,
        "form_key": form_key_sent,
    }  # fmt: skip
    fields = sent_form(request, RecordDeparture, sent)
    try:
        command = RecordDeparture(
            person_id=person_id, reason=fields.text("departure_reason"),
            expected_version=_version(version),
        )  # fmt: skip
        await submit_fields(request, command, fields)
    except FormRefused as refused:
        problems = _placed(refused.problems, "departure_reason")
        return person_page(request, person_id, sent=sent, problems=problems, status_code=400)
    return RedirectResponse(f"/persons/{person_id}?done=departed", status_code=303)


def _value(fields: Fields, chosen: str) -> Any:
    """The new value as the API's body would carry it: text, a whole number, a list of
    codes, or None to clear a detail."""
    if chosen in REQUIRED:
        return fields.text("value")
    if chosen == "estimated_age":
        return fields.whole_number("value", required=False)
    typed = fields.text("value", required=False)
    if chosen == "specific_needs":
        return [code.strip() for code in typed.split(",") if code.strip()]
    if chosen == "date_of_birth":
        # Read only to refuse what is not a date at the field; the API's body sends text.
        fields.day("value")
    return typed or None


def _version(sent: str) -> int:
    """The version of the person the page showed: drawn by the page, so anything else is
    not a form of ours."""
    if not sent.isdigit():
        raise HTTPException(400)
    return int(sent)


def _placed(problems: list[Problem], field: str) -> list[Problem]:
    """The domain's refusals of what was typed next to ``field``; a stale page's refusal
    concerns the whole form."""
    return [
        p if p.field is not None or p.message == STALE else dataclasses.replace(p, field=field)
        for p in problems
    ]
