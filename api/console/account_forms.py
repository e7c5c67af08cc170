"""Creating a person's account, for administrators: the same ``create_account`` as
``campledger user create``, so the same rules refuse the same names.

The account's one-time password is shown once, on the page that answers the form, as
after a reset (``account_reset.html``): never in an address, never logged, never stored by
the browser. The form carries no key of its own: the account is not a command of the log,
so there is no idempotency record to replay. A form sent twice is refused the second time
because the name is taken, and the page says that the first one created the account and
that a reset gives it a new password if the first was lost; no second password is shown.
"""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import APIRouter, Request
from starlette.responses import Response

from campledger.api.console.actor_fields import (
    FIELD_WORDS,
    Ticked,
    operation_sites,
    read_actor,
    refusal,
    shown_once,
)
from campledger.api.console.forms import Problem, Text
from campledger.api.console.i18n import N_
from campledger.api.console.rendering import render
from campledger.api.console.session import console
from campledger.api.services.accounts import DEFAULT_LOCALE, AccountError, create_account

router = APIRouter()

NEW_ACCOUNT_PATH = "/accounts/new"

ACCOUNT_REFUSALS = {
    "name-taken": Problem(
        N_(
            "An account with this name already exists (names differing only in case or "
            "spacing are the same). If you sent this form twice, the first created it: "
            "reset its password from the list if its one-time password was lost."
        ),
        "name",
    ),
    "token-name": Problem(
        N_(
            "An API token has this name: the audit trail could not tell the person's "
            "actions from the token's. Choose another name."
        ),
        "name",
    ),
}


@router.get(NEW_ACCOUNT_PATH)
def new_account(request: Request) -> Response:
    with console(request).pool.connection() as conn:
        return _form(request, conn, {"locale": DEFAULT_LOCALE}, [], [])


@router.post(NEW_ACCOUNT_PATH)
def create(
    request: Request,
    name: Text = "",
    role: Text = "",
    scope: Text = "",
    sites: Ticked | None = None,
    locale: Text = "",
) -> Response:
    context = console(request)
    sent = {"name": name, "role": role, "scope": scope, "locale": locale}
    ticked = sites or []
    with context.pool.connection() as conn:
        actor = read_actor(conn, sent, ticked)
        if actor.problems:
            return _form(request, conn, sent, ticked, actor.problems, actor.known)
        try:
            issued = create_account(
                conn, name=actor.name, role=role, sites=actor.sites, locale=locale,
                now=context.now(), policy=context.policy,
            )  # fmt: skip
        except AccountError as error:
            problem = refusal(error, ACCOUNT_REFUSALS)
            return _form(request, conn, sent, ticked, [problem], actor.known)
    page = render(request, "account_reset.html", issued=issued, target=issued.account, created=True)
    return shown_once(page)


def _form(
    request: Request,
    conn: psycopg.Connection[Any],
    sent: dict[str, str],
    ticked: list[str],
    problems: list[Problem],
    sites: list[dict[str, Any]] | None = None,
) -> Response:
    return render(
        request, "account_new.html", 400 if problems else 200,
        sent=sent, ticked=ticked, problems=problems,
        sites=operation_sites(conn) if sites is None else sites, **FIELD_WORDS,
    )  # fmt: skip
