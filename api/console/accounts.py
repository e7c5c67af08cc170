"""People's accounts, for administrators: each account's role, sites, status, language
and creation, and the forms that disable, enable and reset one. The same service
functions as ``campledger user`` (``api/services/accounts.py``) do the work, so disabling
or resetting ends the account's sessions here exactly as there.

A reset's one-time password is shown once, on the page that answers the form: never in
an address (a redirect would put it in the history), never logged, never stored by the
browser (``Cache-Control: no-store``), as when an account is created (``account_forms.py``).
An administrator's own account has no such forms: disabling it, or resetting it, would
sign them out in the middle of their work."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import psycopg
from fastapi import APIRouter, Path, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from campledger.api.console.account_words import CHANGES, WORDS
from campledger.api.console.actor_fields import shown_once
from campledger.api.console.rendering import render
from campledger.api.console.session import console, signed_in
from campledger.api.services.accounts import (
    Account,
    disable_account,
    enable_account,
    get_account,
    list_accounts,
    reset_account,
)

router = APIRouter()

ACCOUNTS_PATH = "/accounts"
AccountId = Annotated[str, Path(max_length=64)]


@router.get(ACCOUNTS_PATH)
def accounts_page(request: Request, done: str = "", account: str = "") -> Response:
    with console(request).pool.connection() as conn:
        return _list(request, conn, done=done, changed_id=account)


@router.post(ACCOUNTS_PATH + "/{account_id}/disable")
def disable(request: Request, account_id: AccountId) -> Response:
    context = console(request)
    with context.pool.connection() as conn:
        target = _target(conn, account_id)
        if _own(request, target):
            return _list(request, conn, refused="own-disable", status_code=409)
        disable_account(conn, target.name, now=context.now())
    return _done("disabled", target)


@router.post(ACCOUNTS_PATH + "/{account_id}/enable")
def enable(request: Request, account_id: AccountId) -> Response:
    with console(request).pool.connection() as conn:
        target = _target(conn, account_id)
        enable_account(conn, target.name)
    return _done("enabled", target)


@router.post(ACCOUNTS_PATH + "/{account_id}/reset")
def reset(request: Request, account_id: AccountId) -> Response:
    context = console(request)
    with context.pool.connection() as conn:
        target = _target(conn, account_id)
        if _own(request, target):
            return _list(request, conn, refused="own-reset", status_code=409)
        issued = reset_account(conn, target.name, now=context.now(), policy=context.policy)
    page = render(request, "account_reset.html", issued=issued, target=issued.account)
    return shown_once(page)


def _list(
    request: Request,
    conn: psycopg.Connection[Any],
    *,
    done: str = "",
    changed_id: str = "",
    refused: str | None = None,
    status_code: int = 200,
) -> Response:
    accounts = list_accounts(conn)
    changed = next((a for a in accounts if a.account_id == changed_id), None)
    return render(
        request, "accounts.html", status_code,
        accounts=accounts, now=console(request).now(),
        me=signed_in(request).account.account_id,
        done=done if done in CHANGES and changed else None, changed=changed,
        refused=refused, **WORDS,
    )  # fmt: skip


def _target(conn: psycopg.Connection[Any], account_id: str) -> Account:
    found = get_account(conn, account_id)
    if found is None:
        raise HTTPException(404)
    return found


def _own(request: Request, target: Account) -> bool:
    return target.account_id == signed_in(request).account.account_id


def _done(change: str, target: Account) -> Response:
    # The account's id, not its name, in the address: the page names it from the list.
    query = urlencode({"done": change, "account": target.account_id})
    return RedirectResponse(f"{ACCOUNTS_PATH}?{query}", status_code=303)
