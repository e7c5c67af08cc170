"""The OpenAPI document, with every error a client can get described as problem+json.

FastAPI documents only the happy path and its own validation error shape; our errors
all share one RFC 9457 body, so they are added to every operation here rather than
repeated on each route. A route's own description of a status is kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `type` is stable per error; extra members "
    "(such as `errors` or `items`) name fields and rules, never personal values.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "additionalProperties": True,
}

# Statuses any operation may answer, and those only commands (which write) may answer.
_EVERY_OPERATION = {
    "400": "Malformed request or query (bad JSON, bad cursor).",
    "401": "No token, or an unknown or revoked one.",
    "403": "The token's role or site scope does not allow this.",
    "404": "Unknown site, person, transfer or household.",
    "422": "The request does not match the schema (`errors` names each field), or "
    "`wait_for` is beyond the head of the log (`position-beyond-head`, naming the `head`).",
    "429": "This token sent more requests than its rate limit allows, or has too many reads "
    "waiting for `wait_for` positions (`too-many-waiters`); see Retry-After.",
    "503": "Database unavailable, every connection busy, or read models not yet at "
    "`wait_for` (see Retry-After).",
}
_COMMANDS = {
    "409": "A rule forbids it (e.g. the person is held) or a concurrent change won.",
    "413": "Batch or body too large.",
    "415": "The body is not in the media type the operation takes (JSON unless it says).",
}
# Open to probes, answering their own bodies (a 503 from /health is a health report).
_PUBLIC_PATHS = tuple(
    prefix + path
    for prefix in ("", "/api/v1")
    for path in ("/health", "/health/ready", "/health/live")
)


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        add_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_problems(schema: dict[str, Any]) -> None:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = dict(_EVERY_OPERATION)
            if method in ("post", "put", "patch", "delete"):
                statuses.update(_COMMANDS)
            responses = operation.setdefault("responses", {})
            if path in _PUBLIC_PATHS:
                continue
            for status, description in statuses.items():
                own = responses.get(status, {}).get("description")
                if own == "Validation Error":  # FastAPI's generic wording for its own shape
                    own = None
                responses[status] = {"description": own or description, "content": problem}
    # FastAPI's own validation error shapes are never sent: our handler answers instead.
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
