"""API tokens, for administrators, beside people's accounts: the list (never a secret),
the form that creates one and the button that revokes one, over the same service
functions as ``campledger token`` (``api/services/auth.py``).

A new token is shown once, on the page that answers the form: only a digest of its
secret is stored, so no page can show it again; never in an address, never logged, never
stored by the browser. As with accounts (``account_forms.py``), a form sent twice is
refused the second time because the name is taken, and shows no second token.

Revoking asks first, on a page of its own: a field app or a partner's system using the
token is refused from that moment, and a revoked token never works again.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import psycopg
from fastapi import APIRouter, Form, Path, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

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
from campledger.api.services.auth import (
    TokenError,
    TokenInfo,
    create_token,
    get_token,
    list_tokens,
    revoke_token_id,
)

router = APIRouter()

TOKENS_PATH = "/accounts/tokens"
TokenId = Annotated[str, Path(max_length=64)]

TOKEN_REFUSALS = {
    "name-taken": Problem(
        N_(
            "A token with this name already exists. If you sent this form twice, the first "
            "created it: revoke it and create another if it was lost."
        ),
        "name",
    ),
    "account-name": Problem(
        N_(
            "A person's account has this name: the audit trail could not tell the token's "
            "actions from theirs. Choose another name."
        ),
        "name",
    ),
}


@router.get(TOKENS_PATH)
def tokens_page(request: Request, done: str = "", token: str = "") -> Response:
    with console(request).pool.connection() as conn:
        revoked = get_token(conn, token) if done == "revoked" and token else None
        shown = revoked if revoked is not None and revoked.revoked_at is not None else None
        return _page(request, conn, {}, [], [], revoked=shown)


@router.post(TOKENS_PATH)
def create(
    request: Request,
    name: Text = "",
    role: Text = "",
    scope: Text = "",
    sites: Ticked | None = None,
) -> Response:
    sent = {"name": name, "role": role, "scope": scope}
    ticked = sites or []
    with console(request).pool.connection() as conn:
        actor = read_actor(conn, sent, ticked)
        if actor.problems:
            return _page(request, conn, sent, ticked, actor.problems, actor.known)
        try:
            token = create_token(conn, name=actor.name, role=role, sites=actor.sites)
        except TokenError as error:
            problem = refusal(error, TOKEN_REFUSALS)
            return _page(request, conn, sent, ticked, [problem], actor.known)
        made = get_token(conn, token.split("_", 2)[1])
    assert made is not None
    return shown_once(render(request, "token_created.html", token=token, made=made))


@router.post(TOKENS_PATH + "/{token_id}/revoke")
def revoke(
    request: Request, token_id: TokenId, confirm: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    with console(request).pool.connection() as conn:
        found = get_token(conn, token_id)
        if found is None:
            raise HTTPException(404)
        if confirm != "yes":
            # The list's button asks first; only this page's button revokes.
            return render(request, "token_revoke.html", target=found)
        revoke_token_id(conn, found.token_id)
    # Revoked already (a second click) ends on the same page: the token does not work.
    query = urlencode({"done": "revoked", "token": found.token_id})
    return RedirectResponse(f"{TOKENS_PATH}?{query}", status_code=303)


def _page(
    request: Request,
    conn: psycopg.Connection[Any],
    sent: dict[str, str],
    ticked: list[str],
    problems: list[Problem],
    sites: list[dict[str, Any]] | None = None,
    *,
    revoked: TokenInfo | None = None,
) -> Response:
    return render(
        request, "tokens.html", 400 if problems else 200,
        tokens=list_tokens(conn), sent=sent, ticked=ticked, problems=problems,
        sites=operation_sites(conn) if sites is None else sites, revoked=revoked,
        **FIELD_WORDS,
    )  # fmt: skip
