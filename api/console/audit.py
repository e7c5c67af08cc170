"""The auditors' pages: the hash chain verified with its progress, the current digest,
the audit log (filtered, paged, as CSV) and the access trail.

The reads are the API's (``api/services/audit_read.py``): only an unscoped account with
``audit:read`` passes, as over the API. The verification runs in the background, one at
a time (``api/services/verification.py``); the page polls its progress with htmx, and
without JavaScript the button still starts it and the page shows where it is.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response, StreamingResponse

from campledger.api.console.rendering import render
from campledger.api.console.session import console, signed_in
from campledger.api.services.audit_read import (
    FILTERS,
    access_trail_page,
    audit_log_page,
    check_auditor,
    csv_lines,
    read_digest,
)
from campledger.api.services.problems import ApiProblem
from campledger.api.services.verification import Verifier

router = APIRouter()

# A page of entries fits a laptop screen twice; the CSV takes as many as the API allows.
PAGE_SIZE = 50
CSV_SIZE = 10_000
_TIMES = ("recorded_from", "recorded_to", "occurred_from", "occurred_to", "from", "to")
_TRAIL_FILTERS = ("person_id", "actor", "from", "to")
_verifier_lock = threading.Lock()


def _auditor(request: Request) -> str:
    """The signed-in auditor's name; a site-scoped account is refused as over the API."""
    try:
        return check_auditor(signed_in(request).account.principal)
    except ApiProblem:
        raise HTTPException(403) from None


def _database_url(request: Request) -> str:
    url: str = console(request).host.backend.database_url
    return url


def verifier(request: Request) -> Verifier:
    """The console's one verifier (one run at a time, whoever starts it)."""
    state = request.app.state
    with _verifier_lock:
        found: Verifier | None = getattr(state, "verifier", None)
        if found is None:
            found = state.verifier = Verifier(_database_url(request))
    return found


@router.get("/audit")
def overview(request: Request) -> Response:
    _auditor(request)
    return render(
        request, "audit.html",
        digest=read_digest(_database_url(request)), run=verifier(request).state,
    )  # fmt: skip


@router.post("/audit/verify")
def start_verification(request: Request) -> Response:
    verifier(request).start(_auditor(request))
    if request.headers.get("hx-request"):
        return render(request, "audit_verify.html", run=verifier(request).state)
    return RedirectResponse("/audit#verification", status_code=303)


@router.get("/audit/verify")
def verification(request: Request) -> Response:
    _auditor(request)
    return render(request, "audit_verify.html", run=verifier(request).state)


def _filters(request: Request, names: tuple[str, ...]) -> dict[str, Any]:
    """The filters typed in the form: times without a zone read where the console is,
    ids as ids; a value that is neither is the reader's mistake (400)."""
    found: dict[str, Any] = {}
    for name in names:
        value = request.query_params.get(name, "").strip()
        if not value:
            continue
        try:
            if name in _TIMES:
                moment = datetime.fromisoformat(value)
                found[name] = (
                    moment if moment.tzinfo else moment.replace(tzinfo=console(request).zone)
                )
            elif name in ("subject_id", "person_id"):
                found[name] = UUID(value)
            else:
                found[name] = value
        except ValueError:
            raise HTTPException(400) from None
    return found


def _log(request: Request, limit: int, *, as_text: bool) -> tuple[dict[str, Any], Any]:
    _auditor(request)
    filters = _filters(request, FILTERS)
    try:
        page = audit_log_page(
            _database_url(request), filters, request.query_params.get("cursor") or None, limit,
            as_text=as_text,
        )  # fmt: skip
    except ApiProblem:
        raise HTTPException(400) from None
    return filters, page


@router.get("/audit/log")
def audit_log(request: Request) -> Response:
    filters, page = _log(request, PAGE_SIZE, as_text=False)
    typed = {name: request.query_params.get(name, "") for name in FILTERS}
    query = _query(request)
    template = "audit_log_rows.html" if request.headers.get("hx-request") else "audit_log.html"
    return render(
        request, template,
        entries=page.rows, next_cursor=page.next_cursor, typed=typed, query=query,
        filtered=bool(filters),
    )  # fmt: skip


@router.get("/audit/log.csv")
def audit_log_csv(request: Request) -> Response:
    _, page = _log(request, CSV_SIZE, as_text=True)
    return StreamingResponse(
        csv_lines(page.rows),
        media_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="audit-log.csv"',
            **({"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}),
        },
    )


@router.get("/audit/access-trail")
def access_trail(request: Request) -> Response:
    _auditor(request)
    filters = _filters(request, _TRAIL_FILTERS)
    if "from" in filters:
        filters["from_"] = filters.pop("from")
    try:
        page = access_trail_page(
            _database_url(request), **filters,
            after=request.query_params.get("cursor") or None, limit=PAGE_SIZE,
        )  # fmt: skip
    except ApiProblem:
        raise HTTPException(400) from None
    typed = {name: request.query_params.get(name, "") for name in _TRAIL_FILTERS}
    entries = [
        {**row, "accessed_at": datetime.fromisoformat(row["accessed_at"])} for row in page.rows
    ]
    return render(
        request, "audit_trail.html",
        entries=entries, next_cursor=page.next_cursor, typed=typed, query=_query(request),
    )  # fmt: skip


def _query(request: Request) -> str:
    """The filters of the page shown, for its next page and its CSV (without the cursor)."""
    return urlencode({k: v for k, v in request.query_params.items() if k != "cursor" and v})
