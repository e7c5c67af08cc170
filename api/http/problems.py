"""Problems as HTTP responses: every error as RFC 9457 problem+json, mapped in one place.

What each problem says is decided in ``api/services/problems.py``, the same for every
way in; this module installs the handlers that send them.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import DataError as LibraryDataError
from eventsourcing.persistence import InterfaceError as LibraryInterfaceError
from eventsourcing.persistence import OperationalError as LibraryOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from campledger.api.services.auth import Principal
from campledger.api.services.problems import (
    PROBLEM_MEDIA_TYPE,
    UNSTORABLE_DETAIL,
    ApiProblem,
    api_problem_body,
    bad_if_match,
    domain_problem_body,
    problem_body,
    title_of,
    validation_errors,
    validation_problem_body,
)
from campledger.api.services.scoping import persons_visible_to
from campledger.domain.model import errors

log = logging.getLogger(__name__)


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str = "",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, code, title, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_problem(request: Request, error: errors.DomainError) -> JSONResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    registry = None
    if principal is not None and principal.scoped:  # only then does it matter where they are
        backend = getattr(request.app.state, "backend", None)
        registry = backend.registry if backend is not None else None
    body = domain_problem_body(error, may_see_person=persons_visible_to(principal, registry))
    # The first request with this key is being applied: it is a matter of moments.
    headers = {"Retry-After": "1"} if isinstance(error, errors.IdempotencyKeyInFlight) else None
    return JSONResponse(
        body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document states for the request's path (HEAD with GET).

    Read from the document, the contract clients hold, because FastAPI's router keeps
    included routers apart and tells only the methods of the route that matched first.
    Among templates that match (``/sites/occupancy`` and ``/sites/{code}``) the one with
    the fewest parameters wins, as in routing, where literal paths come first.
    """
    segments = request.url.path.rstrip("/").split("/")
    best: tuple[int, list[str]] | None = None
    for template, operations in request.app.openapi()["paths"].items():
        parts = template.rstrip("/").split("/")
        if len(parts) != len(segments):
            continue
        params = sum(part.startswith("{") for part in parts)
        fits = all(p.startswith("{") or p == s for p, s in zip(parts, segments, strict=True))
        if fits and (best is None or params < best[0]):
            best = (params, [method.upper() for method in operations])
    methods = set(best[1]) if best else set()
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    def on_domain_error(request: Request, exc: errors.DomainError) -> JSONResponse:
        return domain_problem(request, exc)

    @app.exception_handler(ApiProblem)
    def on_api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return JSONResponse(
            api_problem_body(exc),
            status_code=exc.status,
            media_type=PROBLEM_MEDIA_TYPE,
            headers=exc.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = validation_errors(exc.errors())
        if not is_json(request) and any(e["loc"][:1] == ["body"] for e in found):
            # FastAPI reads a body it was not told is JSON as nothing at all, and then
            # reports every field missing: say what is actually wrong.
            return problem_response(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json",
            )
        if any(e["loc"][:2] == ["header", "If-Match"] for e in found):
            return on_api_problem(request, bad_if_match())
        body = validation_problem_body(found)
        return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE)

    @app.exception_handler(StarletteHTTPException)
    def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's only 400 is a body it could not parse (not UTF-8, nested too deep, a
        # number too long): the same problem as malformed JSON.
        code = {
            400: "malformed-request",
            404: "not-found",
            405: "method-not-allowed",
            413: "payload-too-large",
        }.get(exc.status_code, "http-error")
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            # Starlette names the methods of the first route that matched the path only
            # (POST /sites), though GET /sites is another route: RFC 9110 wants them all.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(
            exc.status_code, code, title_of(code), str(exc.detail), headers=headers or None
        )

    def unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value the database cannot hold (a NUL character, a number out of range) that
        # no schema caught, as in a path or query: the caller's input, never echoed back.
        log.warning("unstorable value refused: %s", type(exc).__name__)
        return problem_response(
            422, errors.UnstorableValue.code, "Unstorable value", UNSTORABLE_DETAIL
        )

    for data_error in (psycopg.DataError, LibraryDataError):
        app.add_exception_handler(data_error, unstorable)

    def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(
            503,
            "database-unavailable",
            "Database unavailable",
            "the database cannot be reached; retry shortly",
            headers={"Retry-After": "2"},
        )

    for error_class in (
        psycopg.OperationalError,
        psycopg.InterfaceError,
        psycopg_pool.PoolTimeout,
        LibraryOperationalError,
        LibraryInterfaceError,
    ):
        app.add_exception_handler(error_class, unavailable)
