"""Signing in and out.

A refused sign-in keeps the name typed and never the password; it answers 401 (429 with
``Retry-After`` while the name must wait), so a script sees what a person reads. A
successful one replaces any session the browser had (a token planted before sign-in is
worth nothing after it) and sends a one-time password's holder to choose a password.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from campledger.api.console.rendering import reader_locale, render
from campledger.api.console.session import (
    PASSWORD_PATH,
    SESSION_COOKIE,
    clear_session_cookie,
    clear_sign_in_cookie,
    console,
    current_session,
    masked,
    set_session_cookie,
    set_sign_in_cookie,
    sign_in_form_token,
    signed_in_with_any_password,
)
from campledger.api.console.words import CONFIRMATIONS
from campledger.api.services.sessions import end_session, start_session
from campledger.api.services.sign_in import Outcome, SignIn, sign_in

router = APIRouter()

# Long enough for any name or passphrase a person types; longer is not a sign-in. The
# password form (password.py) takes its fields the same way.
FIELD_LIMIT = 1000
Typed = Annotated[str, Form(max_length=FIELD_LIMIT)]


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/", done: str | None = None) -> Response:
    session = current_session(request)
    if session is not None:
        target = PASSWORD_PATH if session.account.must_change_password else local_path(next)
        return RedirectResponse(target, status_code=303)
    return _form(request, next=local_path(next), done=done if done in CONFIRMATIONS else None)


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    name: Typed = "",
    password: Typed = "",
    next: Typed = "/",
) -> Response:
    context = console(request)
    if not name.strip() or not password:
        return _form(request, status_code=400, next=local_path(next), name=name, missing=True)
    now = context.now()
    with context.pool.connection() as conn:
        result = sign_in(conn, name, password, now=now, policy=context.policy)
        if result.outcome is not Outcome.SIGNED_IN or result.account is None:
            return _refused(request, result, name, next)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            end_session(conn, old)
        started = start_session(conn, result.account, now=now, policy=context.policy)
    target = PASSWORD_PATH if result.account.must_change_password else local_path(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, started.token)
    clear_sign_in_cookie(response, request)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    locale = reader_locale(request)
    signed_in_with_any_password(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    with console(request).pool.connection() as conn:
        end_session(conn, token)
    response = RedirectResponse(f"/sign-in?done=signed-out&lang={locale}", status_code=303)
    clear_session_cookie(response, request)
    return response


def _refused(request: Request, result: SignIn, name: str, next: str) -> Response:
    status = 429 if result.outcome is Outcome.WAIT else 401
    response = _form(
        request, status_code=status, next=local_path(next), name=name,
        refusal=result.outcome.value, retry_after=result.retry_after,
    )  # fmt: skip
    if result.retry_after:
        response.headers["Retry-After"] = str(result.retry_after)
    return response


def _form(
    request: Request,
    *,
    status_code: int = 200,
    next: str = "/",
    name: str = "",
    done: str | None = None,
    refusal: str | None = None,
    retry_after: int = 0,
    missing: bool = False,
) -> Response:
    token = sign_in_form_token(request)
    response = render(
        request, "sign_in.html", status_code, sign_in_token=masked(token), next=next, name=name,
        done=done, refusal=refusal, retry_after=retry_after, missing=missing,
    )  # fmt: skip
    set_sign_in_cookie(response, request, token)
    return response
