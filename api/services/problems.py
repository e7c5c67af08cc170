"""Problems (RFC 9457) as values: what went wrong, in words a client can switch on.

Every way in (HTTP, offline sync, the console) refuses with these same problems; the HTTP
layer (``api/http/problems.py``) only turns them into responses. Bodies carry stable
``type`` URIs and identifiers, never personal data: a validation error names the field
and the rule, not the value that was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from campledger.api.schemas import UNSTORABLE_ERROR
from campledger.api.services.scoping import PersonFilter
from campledger.domain.model import errors
from campledger.domain.model.errors import ErrorKind
from campledger.domain.model.values import SURROGATE

# A relative reference with its full path (RFC 9457, 3.1.1): resolved against the URL of
# the request, it is the page campledger itself serves for the problem
# (api/http/routes/problem_pages.py), and it is the same identifier from every server, so a
# client can switch on it wherever the API is reached from.
PROBLEM_BASE = "/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_OF_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.RULE: 409,
    ErrorKind.CONFLICT: 409,
    ErrorKind.PRECONDITION: 412,
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


def not_found(what: str, detail: str) -> ApiProblem:
    """No such transfer, household, person or site: one code and title for each kind."""
    return ApiProblem(404, f"{what}-not-found", f"{what.capitalize()} not found", detail)


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


def status_of(error: errors.DomainError) -> int:
    if isinstance(error, errors.BatchTooLarge):
        return 413
    return STATUS_OF_KIND[error.kind]


def title_of(code: str) -> str:
    return code.replace("-", " ").capitalize()


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
    return problem_body(
        status_of(error), error.code, title_of(error.code), error.message, **details
    )


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
