"""Sites: open one, change its capacity, close it (site managers and administrators).

Each form sends its command through the catalogue (``api/console/forms.py``): a site
manager scoped to some sites changes and closes only those, exactly as over the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from campledger.api.console.forms import (
    FormRefused,
    Key,
    Problem,
    Text,
    new_form_key,
    require,
    sent_form,
    submit_fields,
)
from campledger.api.console.i18n import N_
from campledger.api.console.reading import read_connection, refusals
from campledger.api.console.rendering import render
from campledger.api.services.access import check_scope
from campledger.api.services.rosters import known_site
from campledger.domain.commands import ChangeSiteCapacity, CloseSite, OpenSite
from campledger.domain.model.values import SiteKind

router = APIRouter()


KIND_NAMES = {
    SiteKind.RECEPTION: N_("Reception point"),
    SiteKind.SCREENING: N_("Screening centre"),
    SiteKind.TRANSIT: N_("Transit site"),
    SiteKind.CAMP: N_("Camp"),
    SiteKind.HOSPITAL: N_("Hospital"),
    SiteKind.HOLDING: N_("Holding facility"),
}
assert set(KIND_NAMES) == set(SiteKind), "every kind of site is named"

# The domain's refusals (by code, or by their first words) and the field each concerns.
OPENING_FIELDS = {
    "site-already-exists": "code",
    "site code": "code",
    "site name": "name",
    "sitekind": "kind",
    "capacity": "capacity",
    "admin2-outside-admin1": "admin2_pcode",
    "admin1 p-code": "admin1_pcode",
    "admin2 p-code": "admin2_pcode",
    "latitude": "latitude",
    "longitude": "longitude",
}
CHANGE_FIELDS = {"capacity": "capacity", "reason": "reason"}


@router.get("/sites/new")
def new_site(request: Request) -> Response:
    require(request, OpenSite)
    return _opening_form(request, {}, [])


@router.post("/sites/new")
async def open_site(
    request: Request,
    code: Text = "",
    name: Text = "",
    kind: Text = "",
    capacity: Text = "",
    admin1_pcode: Text = "",
    admin2_pcode: Text = "",
    latitude: Text = "",
    longitude: Text = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {
        "code": code, "name": name, "kind": kind, "capacity": capacity,
        "admin1_pcode": admin1_pcode, "admin2_pcode": admin2_pcode,
        "latitude": latitude, "longitude": longitude, "form_key": form_key_sent,
    }  # fmt: skip
    fields = sent_form(request, OpenSite, sent)
    try:
        command = OpenSite(
            code=fields.text("code"),
            name=fields.text("name"),
            kind=fields.text("kind"),
            capacity=fields.whole_number("capacity") or 0,
            admin1_pcode=fields.optional("admin1_pcode"),
            admin2_pcode=fields.optional("admin2_pcode"),
            latitude=fields.decimal("latitude"),
            longitude=fields.decimal("longitude"),
        )
        await submit_fields(request, command, fields, OPENING_FIELDS)
    except FormRefused as refused:
        return _opening_form(request, sent, refused.problems, status_code=400)
    return RedirectResponse(f"/sites/{command.code}/manage?done=site-opened", status_code=303)


@router.get("/sites/{code}/manage")
def manage_site(request: Request, code: str, done: str = "") -> Response:
    require(request, ChangeSiteCapacity)
    return _management(request, code, {}, [], done=done)


@router.post("/sites/{code}/capacity")
async def change_capacity(
    request: Request,
    code: str,
    capacity: Text = "",
    reason: Text = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {"capacity": capacity, "reason": reason, "form_key": form_key_sent}
    fields = sent_form(request, ChangeSiteCapacity, sent)
    try:
        command = ChangeSiteCapacity(
            code=code,
            capacity=fields.whole_number("capacity") or 0,
            reason=fields.text("reason", required=False),
        )
        await submit_fields(request, command, fields, CHANGE_FIELDS)
    except FormRefused as refused:
        return _management(request, code, sent, refused.problems, status_code=400)
    return RedirectResponse(f"/sites/{code}/manage?done=capacity-changed", status_code=303)


@router.post("/sites/{code}/close")
async def close_site(
    request: Request,
    code: str,
    reason: Text = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key_sent: Key = "",
) -> Response:
    sent = {"close_reason": reason, "form_key": form_key_sent}
    fields = sent_form(request, CloseSite, sent)
    try:
        command = CloseSite(code=code, reason=fields.text("close_reason"))
        if confirm != "yes":
            fields.problems.append(Problem(CONFIRM_CLOSING, "confirm"))
        await submit_fields(request, command, fields, {"reason": "close_reason"})
    except FormRefused as refused:
        return _management(request, code, sent, refused.problems, status_code=400)
    return RedirectResponse(f"/sites/{code}/manage?done=site-closed", status_code=303)


CONFIRM_CLOSING = N_("Tick the box to confirm that the site closes.")
DONE = {
    "site-opened": N_("The site is open."),
    "capacity-changed": N_("The capacity has been changed."),
    "site-closed": N_("The site is closed: it takes no more arrivals or transfers."),
}


def _opening_form(
    request: Request, sent: dict[str, str], problems: list[Problem], *, status_code: int = 200
) -> Response:
    return render(
        request, "site_new.html", status_code,
        sent=sent, problems=problems, form_key=new_form_key() if not sent else sent["form_key"],
        kinds=list(KIND_NAMES.items()),
    )  # fmt: skip


def _management(
    request: Request,
    code: str,
    sent: dict[str, str],
    problems: list[Problem],
    *,
    done: str = "",
    status_code: int = 200,
) -> Response:
    reader = require(request, ChangeSiteCapacity)
    with read_connection(request) as conn, refusals():
        check_scope(reader, code)
        site = known_site(conn, code)
    return render(
        request, "site_manage.html", status_code,
        site=site, sent=sent, problems=problems, done=DONE.get(done),
        capacity_key=new_form_key(), close_key=new_form_key(), kind_names=KIND_NAMES,
    )  # fmt: skip
