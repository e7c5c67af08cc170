"""Choosing a password: at first sign-in (the one-time password must go) and any time after.

The current password is asked for again, and a wrong one counts as a failed sign-in;
when that locks the account, its sessions end and the browser is signed out. A changed
password starts a new session (the old token stops working).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from campledger.api.console.rendering import render
from campledger.api.console.session import (
    SESSION_COOKIE,
    clear_session_cookie,
    console,
    set_session_cookie,
    signed_in_with_any_password,
)
from campledger.api.console.signing import Typed
from campledger.api.services.accounts import end_sessions
from campledger.api.services.passwords import MAX_LENGTH, MIN_LENGTH, PasswordRefused
from campledger.api.services.sessions import end_session, start_session
from campledger.api.services.sign_in import Outcome, WrongPassword, change_password

router = APIRouter()


@router.get("/password")
def password_page(request: Request) -> Response:
    signed_in_with_any_password(request)
    return _form(request)


@router.post("/password")
def password_submit(
    request: Request,
    current: Typed = "",
    new: Typed = "",
    confirm: Typed = "",
) -> Response:
    session = signed_in_with_any_password(request)
    errors: dict[str, str] = {}
    if not current:
        errors["current"] = "missing"
    if not new:
        errors["new"] = "missing"
    elif new != confirm:
        errors["confirm"] = "mismatch"
    if errors:
        return _form(request, errors, status_code=400)
    context = console(request)
    now = context.now()
    with context.pool.connection() as conn:
        try:
            change_password(
                conn, session.account, current=current, new=new, now=now, policy=context.policy
            )
        except WrongPassword as wrong:
            if str(wrong) == Outcome.LOCKED.value:
                end_sessions(conn, session.account.account_id)
                response = RedirectResponse("/sign-in?done=locked", status_code=303)
                clear_session_cookie(response, request)
                return response
            return _form(request, {"current": "current"}, status_code=400)
        except PasswordRefused as refused:
            return _form(request, {"new": refused.code}, status_code=400)
        end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
        started = start_session(conn, session.account, now=now, policy=context.policy)
    response = RedirectResponse("/?done=password-changed", status_code=303)
    set_session_cookie(response, request, started.token)
    return response


def _form(
    request: Request, errors: dict[str, str] | None = None, *, status_code: int = 200
) -> Response:
    return render(
        request, "password.html", status_code, errors=errors or {},
        min_length=MIN_LENGTH, max_length=MAX_LENGTH,
    )  # fmt: skip
