"""Errors as pages in the reader's language: never a stack trace, never raw JSON.

A page that needs a session sends the browser to sign in (and back afterwards); a
one-time password sends it to choose a password; a page the role may not open, a form
without its CSRF token, an unknown address, a database that does not answer and any
unexpected error each get a page that says what happened and what to do. Only the error's
type is logged, never a value of the request.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from campledger.api.console.i18n import N_
from campledger.api.console.rendering import render
from campledger.api.console.session import (
    SESSION_COOKIE,
    SIGN_IN_PATH,
    CsrfRefused,
    NotAllowed,
    PasswordChangeRequired,
    SignInRequired,
    clear_session_cookie,
    load_session_for_error,
)

log = logging.getLogger(__name__)

# Title and explanation of each status the console answers with a page.
PROBLEMS = {
    400: (N_("Something in the form was not right"), N_("Go back and check what you sent.")),
    403: (
        N_("You may not open this page"),
        N_("Your role does not allow it. Ask an administrator if you need it for your work."),
    ),
    404: (N_("Page not found"), N_("Check the address, or start again from the home page.")),
    405: (N_("Page not found"), N_("Check the address, or start again from the home page.")),
    419: (
        N_("This form has expired"),
        N_("Go back, reload the page and send the form again."),
    ),
    500: (
        N_("Something went wrong"),
        N_("Nothing you did caused this. Try again; if it happens again, tell an administrator."),
    ),
    503: (
        N_("The service is not available"),
        N_("The database does not answer. Wait a moment and try again."),
    ),
}


def error_page(request: Request, status: int, shown: int | None = None) -> Response:
    """A page for ``status``; ``shown`` picks the words when they differ from the status."""
    title, explanation = PROBLEMS[shown or status]
    load_session_for_error(request)
    response = render(
        request, "error.html", status, title=title, explanation=explanation, status=status
    )
    if status == 503:
        response.headers["Retry-After"] = "2"
    return response


def redirect(request: Request, target: str) -> Response:
    """A redirect a browser follows, and htmx too (it would swap the target page in)."""
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        query = {"next": request.url.path} if request.method == "GET" else {}
        if request.cookies.get(SESSION_COOKIE):
            query["done"] = "expired"
        target = SIGN_IN_PATH + (f"?{urlencode(query)}" if query else "")
        response = redirect(request, target)
        clear_session_cookie(response, request)
        return response

    @app.exception_handler(PasswordChangeRequired)
    def password_change_required(request: Request, exc: PasswordChangeRequired) -> Response:
        return redirect(request, "/password")

    @app.exception_handler(NotAllowed)
    def not_allowed(request: Request, exc: NotAllowed) -> Response:
        return error_page(request, 403)

    @app.exception_handler(CsrfRefused)
    def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        log.warning("console form refused: no valid CSRF token (%s)", request.url.path)
        return error_page(request, 403, shown=419)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code if exc.status_code in PROBLEMS else 400
        response = error_page(request, status)
        if exc.status_code == 405 and exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, 400)

    def unavailable(request: Request, exc: Exception) -> Response:
        log.warning("console: database unavailable: %s", type(exc).__name__)
        return error_page(request, 503)

    for error_class in (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout):
        app.add_exception_handler(error_class, unavailable)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> Response:
        log.error("console: unexpected %s on %s", type(exc).__name__, request.url.path)
        return error_page(request, 500)
