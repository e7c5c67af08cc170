"""The OpenAPI document, with every error a client can get described as problem+json.

FastAPI documents only the happy path and its own validation error shape; our errors
all share one RFC 9457 body, so they are added to every operation here rather than
repeated on each route. A route's own description of a status is kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from campledger.api.http.openapi_headers import declare_headers
from campledger.api.services.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `type` is stable per error; extra members "
    "(such as `errors` or `items`) name fields and rules, never personal values.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "pattern": "^/problems/[a-z0-9-]+$",
            "description": "The problem type, stable across servers: a relative reference "
            "(`/problems/{code}`, RFC 9457 3.1.1) to this server's page for it, which says "
            "what it means and what to do; switch on it, or on its last segment.",
            "examples": ["/problems/precondition-failed"],
        },
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
    "422": "The request does not match the schema (`errors` names each field and rule; a "
    "query parameter that is not an array, given more than once, is `repeated_parameter`), "
    "or `wait_for` is beyond the head of the log (`position-beyond-head`, naming the `head`).",
    "429": "This token sent more requests than its rate limit allows, or has too many reads "
    "waiting for `wait_for` positions (`too-many-waiters`); see Retry-After.",
    "503": "Database unavailable, every connection busy, or read models not yet at "
    "`wait_for` (see Retry-After).",
}
_COMMANDS = {
    "409": "A rule forbids it (e.g. the person is held) or a concurrent change won.",
    # Said once for every command taking an Idempotency-Key (api/http/dispatch.py).
    "409-key": "Also: `idempotency-key-in-flight`, a request with this Idempotency-Key is "
    "still being applied (see Retry-After; sent again then, it gets that request's answer).",
    "422-key": "Also: `idempotency-key-reused`, this Idempotency-Key was used for a different "
    "request.",
    "413": "Batch or body too large.",
    "415": "The body is not in the media type the operation takes (JSON unless it says).",
}
PRECONDITION_FAILED = (
    "`precondition-failed`: the person changed since the version sent in If-Match (RFC 9110 "
    "412); nothing was written. Read the person again (its ETag) before deciding again."
)
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
        declare_storable_text(schema)
        declare_headers(schema)
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
            headers = {
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"
            }
            for status in ("409", "422"):
                key_rule = statuses.pop(f"{status}-key", "")
                if "Idempotency-Key" in headers:
                    statuses[status] = f"{statuses[status]} {key_rule}"
            if "If-Match" in headers:
                statuses["412"] = PRECONDITION_FAILED
            responses = operation.setdefault("responses", {})
            if path in _PUBLIC_PATHS:
                continue
            for status, description in statuses.items():
                own = responses.get(status, {}).get("description")
                if own == "Validation Error":  # FastAPI's generic wording for its own shape
                    own = None
                elif own and status == "422":
                    # A route's own refusals come on top of the schema's, not instead.
                    own = f"{own} Also: {description}"
                responses[status] = {"description": own or description, "content": problem}
    # FastAPI's own validation error shapes are never sent: our handler answers instead.
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)


# Text the database cannot hold is refused from every way in (domain.values.unstorable,
# 422 unstorable-value): a NUL character. Said once here for every free-text field and
# parameter, rather than on each, so that the document states the rule the server applies.
# (Lone surrogates are refused too, but JSON Schema cannot name them in a pattern that
# every validator reads alike; generated JSON text holds none.)
STORABLE_TEXT = "^[^\\u0000]*$"


def declare_storable_text(schema: dict[str, Any]) -> None:
    # Only what requests carry: an answer may echo what was refused (a sync item's key).
    components = schema.get("components", {}).get("schemas", {})
    for name in _request_components(schema):
        _storable(components[name])
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _not_null(parameter.get("schema", {}))
                _storable(parameter.get("schema", {}))


def _request_components(schema: dict[str, Any]) -> set[str]:
    """The component schemas a request body refers to, directly or through others."""
    components = schema.get("components", {}).get("schemas", {})
    pending = [
        operation.get("requestBody", {})
        for operations in schema.get("paths", {}).values()
        for operation in operations.values()
    ]
    found: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    pending.append(components.get(name, {}))
            pending.extend(node.values())
    return found


def _not_null(parameter: dict[str, Any]) -> None:
    """A header or query parameter is absent or text; FastAPI's ``X | None`` says it may be
    null, which a client can only send as the text "null" (a bad If-Match, a bad number)."""
    branches = parameter.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        kept = [branch for branch in branches if branch != {"type": "null"}]
        del parameter["anyOf"]
        if parameter.get("default", 0) is None:
            del parameter["default"]
        if len(kept) == 1:
            parameter.update(kept[0])
        else:
            parameter["anyOf"] = kept


def _storable(node: Any) -> None:
    """Give each free-text string under ``node`` the storable-text pattern."""
    if isinstance(node, list):
        for item in node:
            _storable(item)
        return
    if not isinstance(node, dict):
        return
    free_text = not {"pattern", "format", "enum", "const", "$ref"} & set(node)
    if node.get("type") == "string" and free_text:
        node["pattern"] = STORABLE_TEXT
    for key in ("properties", "additionalProperties", "items", "anyOf", "oneOf", "allOf"):
        child = node.get(key)
        if isinstance(child, dict) and key == "properties":
            for value in child.values():
                _storable(value)
        elif child is not None:
            _storable(child)
