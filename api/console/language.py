"""Choosing the console's language, kept with the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from campledger.api.console.rendering import render
from campledger.api.console.session import console, signed_in
from campledger.api.services.accounts import LOCALES, set_locale

router = APIRouter()


@router.get("/language")
def language_page(request: Request, done: str | None = None) -> Response:
    signed_in(request)
    return render(request, "language.html", done=done == "language-changed", invalid=False)


@router.post("/language")
def language_submit(request: Request, locale: Annotated[str, Form(max_length=10)] = "") -> Response:
    session = signed_in(request)
    if locale not in LOCALES:
        return render(request, "language.html", 400, done=False, invalid=True)
    with console(request).pool.connection() as conn:
        set_locale(conn, session.account.account_id, locale)
    return RedirectResponse("/language?done=language-changed", status_code=303)
