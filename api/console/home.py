"""The page a person lands on: who they are, what their role may do, where, and the
pages it opens. For a role with no page yet, this is the whole console, and it says so."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from campledger.api.console.rendering import render
from campledger.api.console.session import console, signed_in
from campledger.api.console.words import CONFIRMATIONS, ROLE_DUTIES

router = APIRouter()


@router.get("/")
def home(request: Request, done: str | None = None) -> Response:
    session = signed_in(request)
    policy = console(request).policy
    return render(
        request, "home.html",
        duty=ROLE_DUTIES[session.account.role],
        session_ends=session.created_at + policy.session_lifetime,
        idle_minutes=int(policy.session_idle.total_seconds() // 60),
        done=done if done in CONFIRMATIONS else None,
    )  # fmt: skip
