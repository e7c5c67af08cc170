"""The pages a problem's ``type`` points to: one a problem code, and an index of them all,
drawn from the one catalogue (``api/services/problem_types.py``).

Open to anyone, at the root (``/problems/{code}``, where a relative ``type`` resolves):
they describe kinds of refusal, never one refusal, and hold no personal data.
"""

from __future__ import annotations

import re
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from campledger.api.services.problem_types import PROBLEM_TYPES, ProblemType
from campledger.api.services.problems import PROBLEM_BASE, ApiProblem

router = APIRouter(prefix=PROBLEM_BASE.rstrip("/"), include_in_schema=False)

_STYLE = "body{font-family:sans-serif;max-width:42rem;margin:2rem auto;line-height:1.5}"


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · campledger</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _prose(text: str) -> str:
    """The catalogue's text as HTML: escaped, with its `code` spans set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _status(problem: ProblemType) -> str:
    return "the status of the HTTP error" if problem.status is None else str(problem.status)


@router.get("")
def problem_index() -> HTMLResponse:
    """Every problem type, with its status and title."""
    rows = "".join(
        f'<tr><td><a href="{PROBLEM_BASE}{p.code}">{p.code}</a></td>'
        f"<td>{_status(p)}</td><td>{escape(p.title)}</td></tr>"
        for p in PROBLEM_TYPES.values()
    )
    return _page(
        "Problem types",
        "<h1>Problem types</h1><p>Every error campledger answers is "
        "<code>application/problem+json</code> (RFC 9457); its <code>type</code> is one of "
        "these pages.</p><table><tr><th>type</th><th>status</th><th>title</th></tr>"
        f"{rows}</table>",
    )


@router.get("/{code}")
def problem_page(code: str) -> HTMLResponse:
    """What one problem means and what to do about it; an unknown code is a 404 problem."""
    problem = PROBLEM_TYPES.get(code)
    if problem is None:
        raise ApiProblem(404, "not-found", "Not found", "no problem type has this code")
    return _page(
        problem.title,
        f"<h1>{escape(problem.title)}</h1>"
        f"<p><code>type</code>: <code>{PROBLEM_BASE}{problem.code}</code> · "
        f"status {_status(problem)}</p>"
        f"<h2>What it means</h2><p>{_prose(problem.meaning)}</p>"
        f"<h2>What to do</h2><p>{_prose(problem.action)}</p>"
        f'<p><a href="{PROBLEM_BASE.rstrip("/")}">Every problem type</a></p>',
    )
