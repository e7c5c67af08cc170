"""What a fuzzer must be told about campledger that no OpenAPI document can say.

Loaded by tests/security/test_fuzz.py, and by the schemathesis CLI for longer runs:

    SCHEMATHESIS_HOOKS=tests.security.fuzz_hooks schemathesis run --checks all ...

Each adjustment below touches only requests generated as valid ("positive" data), and
only a value whose acceptance depends on the server's state or on two values at once,
which JSON Schema cannot express. Everything a single value must satisfy is in the
document itself (api/openapi.py, api/schemas/); nothing here hides a rule from it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import schemathesis

from campledger.domain.model.values import MAX_AGE


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    body = case.body
    if isinstance(body, dict):
        _body(case.operation.path, body)
    # An Idempotency-Key that an earlier request used with another body is refused (422
    # idempotency-key-reused), a rule across requests that no schema can state: generated
    # keys are made unique (tests/api/test_http_semantics.py tests reuse itself).
    headers = case.headers
    if headers and isinstance(headers.get("Idempotency-Key"), str):
        headers["Idempotency-Key"] = f"{headers['Idempotency-Key'][:180]}~{next(_KEYS)}"
    # An If-Match names a version the person had: any other is 412 precondition-failed, the
    # server's state at that moment (like a cursor it never minted). Generated ones are
    # left out; tests/api/test_http_semantics.py sends real ones.
    if headers:
        headers.pop("If-Match", None)
    # The HDX metadata of the flows export needs the period it describes: `start` and `end`
    # are required for that one path value only, a rule between a path and a query
    # parameter that JSON Schema cannot state. Generated ones get a period when they lack one.
    if (
        case.operation.path.endswith(".hdx.json")
        and (case.path_parameters or {}).get("export") == "flows"
    ):
        case.query = {"start": "2026-01-01", "end": "2026-01-31", **(case.query or {})}
    if not case.query:
        return
    query = case.query
    # A position beyond the head of the log is refused (422 position-beyond-head): the
    # head is the server's state at that moment. 0 is always reached. (Some phases send
    # query values as the strings they will be in the URL.)
    if "wait_for" in query:
        query["wait_for"] = 0
    # A cursor is a token the server minted for one list: the document declares its
    # alphabet and length, not which tokens exist; any other is 400 bad-query. Generated
    # ones start from the first page instead (tests/api/test_paging.py walks real ones).
    query.pop("cursor", None)
    query.pop("after", None)
    # Flows from `start` to `end`: an end before the start is 400 bad-query, a rule
    # between two parameters that JSON Schema cannot state.
    start, end = query.get("start"), query.get("end")
    if isinstance(start, str) and isinstance(end, str) and end < start:
        query["start"], query["end"] = end, start
    # A roster as of a past time lists ids and status only: a filter, a name search or a
    # sort beside `as_of` is 400 bad-query, a rule between parameters that no parameter's
    # schema can state. Generated ones keep `as_of` alone (the roster as CSV and XLSX too).
    roster = case.operation.path.endswith(("/roster", "/roster.csv", "/roster.xlsx"))
    if roster and "as_of" in query:
        for name in ROSTER_FILTERS:
            query.pop(name, None)


_KEYS = itertools.count()

ROSTER_FILTERS = (
    "status", "sex", "age_band", "nationality", "specific_need", "household_id", "name", "sort",
)  # fmt: skip


def _within_the_clock(body: dict[str, Any]) -> None:
    this_year = datetime.now(UTC).year
    when = body.get("occurred_at")
    if isinstance(when, str) and when[:4].isdigit() and int(when[:4]) >= this_year:
        body["occurred_at"] = "2000-01-01T00:00:00Z"
    born = body.get("date_of_birth")
    if (
        isinstance(born, str)
        and born[:4].isdigit()
        and not this_year - MAX_AGE < int(born[:4]) < this_year
    ):
        body["date_of_birth"] = "2000-01-01"


def _body(path: str, body: dict[str, Any]) -> None:
    # Rules bound to the server's clock, which no schema holds: a field time in the future
    # is refused (422 occurred-in-future), and so is a date of birth in the future or more
    # than 130 years back (422 invalid-age), in an arrival alone or in a batch.
    for item in [body, *(a for a in body.get("arrivals") or () if isinstance(a, dict))]:
        _within_the_clock(item)
    # A pair of one record with itself is refused (422 invalid-input): two fields that
    # must differ, which JSON Schema cannot state.
    if path.endswith("/duplicates/dismissals") and body.get("person_id") == body.get("other_id"):
        body["other_id"] = "00000000-0000-4000-8000-000000000001"
    # Likewise a transfer from a site to itself (422 invalid-input).
    if path.endswith("/transfers") and body.get("origin") == body.get("destination"):
        body["destination"] = "B" if body.get("origin") != "B" else "C"
    # An atomic batch is refused whole (422 batch-rejected) when the server's state refuses
    # one item (an unknown person): generated items name persons that mostly do not exist.
    # Not atomic, each item is answered on its own and the batch is accepted.
    if path.endswith("/sync") and body.get("atomic") is True:
        body["atomic"] = False
    # A hold is reviewed on or after the day it is decided (422 invalid-input): a rule
    # between two fields, or between a field and the server's clock when no time is given
    # (the examples' dates fall behind it as time goes on).
    if path.endswith(("/hold", "/screening-steps")) and isinstance(body.get("review_date"), str):
        held_on = str(body.get("occurred_at") or "")[:10] or datetime.now(UTC).date().isoformat()
        body["review_date"] = max(body["review_date"], held_on)
    # An erasure by court order names the order (422 otherwise): a rule between two fields.
    court_order = path.endswith("/erasure") and body.get("basis") == "court_order"
    if court_order and not str(body.get("order_reference") or "").strip():
        body["order_reference"] = "fuzz"
    # A 'held' outcome needs the deciding authority and the order's reference, and any
    # other outcome takes neither: a rule between fields (JSON Schema's if/then could say
    # it; the document says it in words for now).
    if path.endswith("/screening-steps"):
        if body.get("outcome") == "held":
            for name in ("authority", "order_reference"):
                if not str(body.get(name) or "").strip():
                    body[name] = "fuzz"
        else:
            for name in ("authority", "order_reference", "review_date"):
                body.pop(name, None)
