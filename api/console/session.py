"""Who is signed in, the session cookie, and the CSRF check on every unsafe request.

The cookie carries the session's random token (``api/services/sessions.py`` stores only
its hash). It is HttpOnly (no script reads it), SameSite=Strict (no other site's page
sends it) and Secure when the request came over TLS or the settings say TLS ends at a
proxy in front; it has no Max-Age, so closing the browser drops it, and the server ends
the session on its own after the idle and absolute limits.

Every POST, PUT, PATCH and DELETE must carry the session's CSRF token, in the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx requests send it from the page's
``hx-headers``). The sign-in form, sent before there is a session, carries a token that
must match a cookie set with the form (double submit), so another site cannot sign a
browser in to an account of its choosing.

Pages are compressed on the wire, and a page that carries a secret and reflects what
someone typed (a search box) lets an attacker who sees the compressed sizes guess the
secret a character at a time (BREACH). So a page never carries the token itself but a
fresh random mask and the token XORed with it (``masked``), as Django does: no two pages
carry the same bytes, and the check unmasks what comes back before comparing it, in
constant time, with the token kept server-side.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from typing import Any

import psycopg
from fastapi import Request
from psycopg_pool import PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from campledger.api.console.context import ConsoleContext
from campledger.api.services.sessions import Session, csrf_matches, resolve_session

SESSION_COOKIE = "campledger_session"
SIGN_IN_COOKIE = "campledger_sign_in"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN_PATH = "/sign-in"
PASSWORD_PATH = "/password"
# The sign-in form's token lives as long as someone may leave the form open.
SIGN_IN_FORM_SECONDS = 3600
# Far longer than any masked token (a 43-character token masks to 116): not worth decoding.
MASKED_LIMIT = 200


class SignInRequired(Exception):
    """No live session: the page sends the browser to the sign-in form."""


class PasswordChangeRequired(Exception):
    """Signed in with a one-time password: nothing opens before it is replaced."""


class NotAllowed(Exception):
    """The account's role may not open this page."""


class CsrfRefused(Exception):
    """An unsafe request without its session's CSRF token."""


def console(request: Request) -> ConsoleContext:
    found: ConsoleContext = request.app.state.console
    return found


def current_session(request: Request) -> Session | None:
    found: Session | None = getattr(request.state, "console_session", None)
    return found


def signed_in(request: Request) -> Session:
    """The request's session, for a page that needs one and a chosen password."""
    session = current_session(request)
    if session is None:
        raise SignInRequired()
    if session.account.must_change_password:
        raise PasswordChangeRequired()
    return session


def signed_in_with_any_password(request: Request) -> Session:
    """The request's session, for the password change and sign-out."""
    session = current_session(request)
    if session is None:
        raise SignInRequired()
    return session


async def load_session(request: Request) -> None:
    """Resolve the cookie into a session before anything else runs (a dependency of every
    console route)."""
    token = request.cookies.get(SESSION_COOKIE)
    session = None
    if token:
        context = console(request)
        session = await run_in_threadpool(_resolve, context, token)
    request.state.console_session = session


def _resolve(context: ConsoleContext, token: str) -> Session | None:
    with context.pool.connection() as conn:
        return resolve_session(conn, token, now=context.now(), policy=context.policy)


def load_session_for_error(request: Request) -> None:
    """For an error page of an address no route matched (so ``load_session`` did not
    run): the reader's session, for their language and menu, if the database answers."""
    if hasattr(request.state, "console_session"):
        return
    token = request.cookies.get(SESSION_COOKIE)
    try:
        request.state.console_session = _resolve(console(request), token) if token else None
    except (psycopg.Error, PoolTimeout):
        request.state.console_session = None


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request that does not carry its CSRF token (a dependency of every
    console route, after ``load_session``)."""
    if request.method in SAFE_METHODS:
        return
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        # Read under the limits its route declares (a truckload's grid sends thousands
        # of fields, beyond Starlette's default 1,000): the form is parsed once, here.
        limits = getattr(request.scope.get("route"), "form_limits", None) or {}
        form = await request.form(**limits)
        field = form.get(CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    revealed = unmasked(presented)
    if request.url.path == SIGN_IN_PATH:
        expected = request.cookies.get(SIGN_IN_COOKIE, "")
        if not (expected and revealed and _same(expected, revealed)):
            raise CsrfRefused()
        return
    session = current_session(request)
    if session is None:
        raise SignInRequired()
    if not csrf_matches(session, revealed):
        raise CsrfRefused()


def masked(token: str) -> str:
    """The token as one page carries it: a fresh random mask, then the token XORed with
    it, in URL-safe base64."""
    secret = token.encode()
    mask = secrets.token_bytes(len(secret))
    return base64.urlsafe_b64encode(mask + _xor(mask, secret)).decode()


def unmasked(presented: str | None) -> str | None:
    """The token a masked one carries, or None for anything that is not a masked token
    (the bare token included: a page never shows it, so nobody honest sends it)."""
    if not presented or len(presented) > MASKED_LIMIT:
        return None
    try:
        raw = base64.b64decode(presented.encode("ascii"), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    half = len(raw) // 2
    if half == 0 or len(raw) % 2:
        return None
    try:
        return _xor(raw[:half], raw[half:]).decode("ascii")
    except UnicodeDecodeError:
        return None


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _secure(request: Request) -> bool:
    return console(request).secure_cookies or request.url.scheme == "https"


def _cookie_flags(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": _secure(request)}


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, path="/", **_cookie_flags(request))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", **_cookie_flags(request))


def sign_in_form_token(request: Request) -> str:
    """The token the sign-in form's cookie carries (the one it has, if it has one); the
    form carries it masked."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)


def set_sign_in_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE, token, path=SIGN_IN_PATH, max_age=SIGN_IN_FORM_SECONDS,
        **_cookie_flags(request),
    )  # fmt: skip


def clear_sign_in_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SIGN_IN_COOKIE, path=SIGN_IN_PATH, **_cookie_flags(request))
