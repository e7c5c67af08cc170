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
    "422": "The request does not match the schema; `errors` names each field.",
    "429": "This token sent more requests than its rate limit allows (see Retry-After).",
    "503": "Database unavailable, or read models not yet at `wait_for` (see Retry-After).",
}
_COMMANDS = {
    "409": "A rule forbids it (e.g. the person is held) or a concurrent change won.",
    "413": "Batch or body too large.",
    "415": "The body is not in the media type the operation takes (JSON unless it says).",
}
_PUBLIC_PATHS = ("/health", "/metrics", "/api/v1/health", "/api/v1/metrics")


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
            if path in _PUBLIC_PATHS:
                statuses = {"503": _EVERY_OPERATION["503"]}
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                own = responses.get(status, {}).get("description")
                if own == "Validation Error":  # FastAPI's generic wording for its own shape
                    own = None
                responses[status] = {"description": own or description, "content": problem}
    # FastAPI's own validation error shapes are never sent: our handler answers instead.
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
