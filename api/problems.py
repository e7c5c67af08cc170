"""Every error as RFC 9457 problem+json, mapped in one place.

Bodies carry stable ``type`` URIs and identifiers, never personal data: a validation
error names the field and the rule, not the value that was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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

from api.auth import Principal
from api.schemas import UNSTORABLE_ERROR
from api.scoping import PersonFilter, persons_visible_to
from domain import errors
from domain.errors import ErrorKind
from domain.values import SURROGATE

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://campledger.org/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_OF_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.RULE: 409,
    ErrorKind.CONFLICT: 409,
}

# Details that name another person: shown only to callers allowed to see personal data.
PERSON_REFERENCES = frozenset({"existing_person"})


class ApiProblem(Exception):
    """An HTTP-level problem raised by the API itself (auth, scope, waiting, limits)."""

    def __init__(self, status: int, code: str, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


def bad_if_match() -> ApiProblem:
    """An If-Match that is no version ETag: the same answer whether the header's declared
    pattern (the schema) or the route finds it."""
    return ApiProblem(400, "bad-if-match", "Bad If-Match", "If-Match must be a version ETag")


@contextmanager
def bad_query() -> Iterator[None]:
    """Read models raise ValueError for malformed query input (cursor, band, range)."""
    try:
        yield
    except ValueError as error:
        raise ApiProblem(400, "bad-query", "Bad query", str(error)) from None


def problem_body(
    status: int, code: str, title: str, detail: str = "", **extra: Any
) -> dict[str, Any]:
    """The problem+json body itself, for responses and for the items of a sync batch."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


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


def status_of(error: errors.DomainError) -> int:
    if isinstance(error, errors.BatchTooLarge):
        return 413
    return STATUS_OF_KIND[error.kind]


def _title(code: str) -> str:
    return code.replace("-", " ").capitalize()


def domain_problem(request: Request, error: errors.DomainError) -> JSONResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    registry = None
    if principal is not None and principal.scoped:  # only then does it matter where they are
        camp = getattr(request.app.state, "campledger", None)
        registry = camp.registry if camp is not None else None
    body = domain_problem_body(error, may_see_person=persons_visible_to(principal, registry))
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE)


def domain_problem_body(
    error: errors.DomainError, *, may_see_person: PersonFilter
) -> dict[str, Any]:
    """The problem for a domain error, naming other persons only where the caller may know
    of them (see ``api.scoping.persons_visible_to``)."""

    def shown(found: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in found.items()
            if k not in PERSON_REFERENCES or (isinstance(v, str) and may_see_person(v))
        }

    details = shown(error.details)
    if "items" in details:
        details["items"] = [shown(item) for item in details["items"]]
    return problem_body(status_of(error), error.code, _title(error.code), error.message, **details)


def api_problem_body(problem: ApiProblem) -> dict[str, Any]:
    return problem_body(
        problem.status, problem.code, problem.title, problem.detail, **problem.extra
    )


def validation_errors(found: Iterable[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors without their ``input``: it may be a name or a date of birth."""
    return [_validation_error(e) for e in found]


def _validation_error(error: Any) -> dict[str, Any]:
    loc, kind = list(error.get("loc", ())), error.get("type", "")
    if kind == "string_unicode":
        # Pydantic's word for text holding a lone surrogate: the domain's unstorable value,
        # said in the domain's words.
        return {"loc": loc, "msg": SURROGATE, "type": UNSTORABLE_ERROR}
    return {"loc": loc, "msg": error.get("msg", ""), "type": kind}


UNSTORABLE_DETAIL = "a value in the request cannot be stored (e.g. a NUL character)"


def validation_problem_body(found: list[dict[str, Any]]) -> dict[str, Any]:
    if any(e["type"] in ("json_invalid", "json_type") for e in found):
        return problem_body(
            400, "malformed-request", "Malformed request", "the body is not valid JSON"
        )
    if any(e["type"] == UNSTORABLE_ERROR for e in found):
        # One problem type for an unstorable value from every way in (body, path, query,
        # CSV row, sync item), whatever else is wrong beside it: a client switches on it.
        return problem_body(
            422,
            errors.UnstorableValue.code,
            "Unstorable value",
            UNSTORABLE_DETAIL,
            errors=found,
        )
    return problem_body(
        422,
        "invalid-request",
        "Invalid request",
        "the request does not match the schema",
        errors=found,
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
            exc.status_code, code, _title(code), str(exc.detail), headers=headers or None
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
