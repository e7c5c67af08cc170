"""Pages from Jinja2 templates, in the reader's language.

One Jinja2 environment per language, each with its catalogue installed once, so that a
request never changes what another one renders with. Every page gets the reader's
language and direction, their session, the navigation their role allows and the CSRF
token its forms carry, masked afresh for each page (``session.masked``). Static files are
linked with a digest of their content, so a browser on a slow link keeps them until they
change (``assets.py``).
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from campledger.api.console.assets import static_url
from campledger.api.console.i18n import NATIVE_NAMES, Formats, negotiate, supported, translations
from campledger.api.console.session import console, current_session, masked
from campledger.api.console.words import (
    CONFIRMATIONS,
    PASSWORD_RULES,
    REFUSALS,
    ROLE_NAMES,
)
from campledger.api.services.accounts import LOCALES


@functools.cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=PackageLoader("campledger.api.console", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static_url=static_url,
        role_names=ROLE_NAMES,
        languages=NATIVE_NAMES,
        confirmations=CONFIRMATIONS,
        refusals=REFUSALS,
        password_rules=PASSWORD_RULES,
    )
    return env


def reader_locale(request: Request) -> str:
    """The account's language once signed in; before, the one asked for in the URL
    (the sign-in page's language links), else the browser's."""
    session = current_session(request)
    if session is not None:
        return session.account.locale
    asked = supported(request.query_params.get("lang"))
    return asked or negotiate(request.headers.get("accept-language"))


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    locale = reader_locale(request)
    context = console(request)
    formats = Formats(locale, context.zone)
    session = current_session(request)
    principal = session.account.principal if session else None
    page = {
        "locale": locale,
        "locales": LOCALES,
        "direction": formats.direction,
        "formats": formats,
        "session": session,
        "account": session.account if session else None,
        "principal": principal,
        # The menu only once a chosen password has opened the console.
        "nav": context.navigation.for_principal(principal)
        if session and not session.account.must_change_password and principal
        else [],
        # Masked afresh on every page: compressed pages must not repeat a secret (BREACH).
        "csrf_token": masked(session.csrf_token) if session else "",
        "path": request.url.path,
        # Filled by the form's fields as they are drawn (form_fields.html).
        "field_labels": {},
        **values,
    }
    drawn = environment(locale).get_template(template)
    if values.get("problems"):
        # A refused form: a first drawing gathers the labels of the fields in trouble, so
        # the summary at the top can name each field, not just say "Fill in this field".
        drawn.render(page)
    html = drawn.render(page)
    return HTMLResponse(html, status_code=status_code)
