"""The response headers each operation sends, declared in the OpenAPI document.

Named by operationId (api/http/operations.py) beside the code that sends them, so a
generated client exposes them and schemathesis checks them
(tests/api/test_openapi_clients.py sends each and finds it declared).
"""

from __future__ import annotations

from typing import Any

_POSITION = {
    "description": "The log position of the command's last event: pass it as `wait_for` "
    "to read your own write.",
    "schema": {"type": "integer", "minimum": 0},
}
_REPLAYED = {
    "description": "`true` when the Idempotency-Key was seen before: nothing was written "
    "and the first result is returned.",
    "schema": {"type": "string", "enum": ["true"]},
}
_ETAG = {
    "description": 'The person\'s version (`"7"`): send it back as `If-Match` to refuse a '
    "change made since.",
    "schema": {"type": "string"},
}
_NEXT_CURSOR = {
    "description": "The next page's cursor (CSV answers; a JSON page carries `next_cursor`); "
    "absent on the last page.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,1024}$"},
}
REQUEST_ID = {
    "description": "This request's id, in every log line the server wrote while handling "
    "it: the request's own `X-Request-ID` when it is 1 to 128 letters, digits or "
    "`._:;=+/-`, otherwise a new one. Quote it when reporting a problem.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:;=+/-]{1,128}$"},
}
_LOCATION = {
    "description": "The URL of what the command created (sent again on a replay).",
    "schema": {"type": "string", "format": "uri"},
}
_NO_STORE = {
    "description": "`no-store`: the answer holds a person's personal data; no browser "
    "cache or proxy may keep it.",
    "schema": {"type": "string", "enum": ["no-store"]},
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 0},
}

# Commands answered through api/http/dispatch.py ``accepted``: position always, the replay
# flag on a replay, which answers the first request's status (201 stays 201).
_DISPATCHED = (
    "registerArrival", "registerArrivals", "dismissDuplicate", "openSite",
    "changeSiteCapacity", "closeSite", "planTransfer", "dispatchTransfer", "receiveTransfer",
    "reconcileTransfer", "cancelTransfer", "recordScreeningStep", "holdPerson",
    "releasePerson", "recordDeparture", "correctPerson", "mergePersons", "erasePersonalData",
)  # fmt: skip
# A command on one person answers the person's new version (api/http/routes/persons.py).
_VERSIONED = (
    "recordScreeningStep",
    "holdPerson",
    "releasePerson",
    "recordDeparture",
    "correctPerson",
    "erasePersonalData",
)

# operationId -> status -> header name -> (declaration, always sent)
HEADERS: dict[str, dict[str, dict[str, tuple[dict[str, Any], bool]]]] = {
    **{
        name: {
            "200": {"X-Log-Position": (_POSITION, True), "Idempotent-Replayed": (_REPLAYED, False)},
            "201": {"X-Log-Position": (_POSITION, True), "Idempotent-Replayed": (_REPLAYED, False)},
        }
        for name in _DISPATCHED
    },
    "importArrivals": {
        "200": {"X-Log-Position": (_POSITION, False)},  # a dry run writes nothing
        "201": {"X-Log-Position": (_POSITION, True)},
    },
    "syncDevice": {"200": {"X-Log-Position": (_POSITION, True)}},
    "getPerson": {"200": {"ETag": (_ETAG, True)}},
    "exportSubjectData": {"200": {"Cache-Control": (_NO_STORE, True)}},
    "listSiteRoster": {"200": {"X-Next-Cursor": (_NEXT_CURSOR, False)}},
    "exportSiteRosterXlsx": {"200": {"X-Next-Cursor": (_NEXT_CURSOR, False)}},
    "exportSiteRosterCsv": {"200": {"X-Next-Cursor": (_NEXT_CURSOR, False)}},
    "exportAuditLogCsv": {"200": {"X-Next-Cursor": (_NEXT_CURSOR, False)}},
    # Readiness sends Retry-After with every 503, though it needs no token.
    **{
        name: {"503": {"Retry-After": (RETRY_AFTER, True)}}
        for name in ("checkReadiness", "probeReadiness", "getReadiness")
    },
}
for _name in _VERSIONED:
    HEADERS[_name]["200"]["ETag"] = (_ETAG, False)
# A command creating one resource that can be read says where (api/http/routes/).
for _name in ("openSite", "registerArrival", "planTransfer"):
    HEADERS[_name]["201"]["Location"] = (_LOCATION, True)


def declare_headers(schema: dict[str, Any]) -> None:
    """Add each operation's headers to its answers, X-Request-ID to every answer, and
    Retry-After to every 429 and 503 of the operations that need a token (the rate limit,
    a busy or absent database, and ``wait_for`` all send it)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            for status, headers in HEADERS.get(operation.get("operationId", ""), {}).items():
                if status not in responses:
                    continue
                declared = responses[status].setdefault("headers", {})
                for name, (header, required) in headers.items():
                    declared[name] = {**header, "required": required}
            for answer in responses.values():
                answer.setdefault("headers", {})["X-Request-ID"] = {
                    **REQUEST_ID,
                    "required": True,
                }
            if operation.get("security"):
                for status in ("429", "503"):
                    if status in responses:
                        declared = responses[status].setdefault("headers", {})
                        declared["Retry-After"] = {**RETRY_AFTER, "required": False}
