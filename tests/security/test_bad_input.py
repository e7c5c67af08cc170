"""Bad input over real HTTP: each gets a clear 4xx problem and writes nothing.

The requests go through uvicorn to ``campledger serve`` (tests/security/conftest.py), so
what is refused is refused by the stack a field device reaches, HTTP parsing included.
Each case names the request, the status and the problem type; after each, the log's head
and the access trail are where they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from campledger.api.http.app import MAX_BODY_BYTES
from campledger.api.services.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from tests.api.conftest import arrival_json
from tests.reliability.support import Figures
from tests.security.conftest import Running

# The values a refusal must never echo back: they stand for somebody's personal data.
SECRET_NAME = "Hawa-Bx9q"


def an_arrival(**overrides: Any) -> dict[str, Any]:
    fields = {"given_name": SECRET_NAME, **overrides}
    return {"site_code": "RC-SEC", **arrival_json("R-BAD", **fields)}


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


def nested(depth: int) -> bytes:
    """A JSON value ``depth`` arrays deep, inside an otherwise valid arrival."""
    body = json.dumps(an_arrival(specific_needs="@@"))
    return body.replace('"@@"', "[" * depth + "]" * depth).encode()


def streamed(size: int) -> Callable[[], Iterator[bytes]]:
    """A body sent in chunks, without Content-Length (Transfer-Encoding: chunked)."""

    def chunks() -> Iterator[bytes]:
        yield b'{"site_code": "RC-SEC", "given_name": "'
        for _ in range(size // 100_000):
            yield b"x" * 100_000
        yield b'"}'

    return chunks


@dataclass(frozen=True)
class Bad:
    path: str
    status: int
    problem: str
    content: bytes | Callable[[], Iterator[bytes]] = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    method: str = "POST"


JSON = {"Content-Type": "application/json"}
# fmt: off
CASES: dict[str, Bad] = {
    # --- size -----------------------------------------------------------------------------
    "body over 2 MB with Content-Length": Bad(
        "/arrivals", 413, "payload-too-large", as_json(an_arrival(family_name="x" * (3 << 20)))
    ),
    "body over 2 MB streamed without Content-Length": Bad(
        "/arrivals", 413, "payload-too-large", streamed(3 << 20)
    ),
    "a 1 MB given name": Bad(
        "/arrivals", 422, "invalid-request", as_json(an_arrival(given_name="x" * (1 << 20)))
    ),
    "100,000 specific needs": Bad(
        "/arrivals", 422, "invalid-request", as_json(an_arrival(specific_needs=["a"] * 100_000))
    ),
    "an Idempotency-Key of 10 kB": Bad(
        "/arrivals", 422, "invalid-request", as_json(an_arrival()),
        headers={**JSON, "Idempotency-Key": "k" * 10_000},
    ),
    # --- content types ------------------------------------------------------------------------
    "JSON sent as text/plain": Bad(
        "/arrivals", 415, "unsupported-media-type", as_json(an_arrival()),
        headers={"Content-Type": "text/plain"},
    ),
    "a form instead of JSON": Bad(
        "/arrivals", 415, "unsupported-media-type", b"site_code=RC-SEC&given_name=" + b"Hawa",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "multipart instead of JSON": Bad(
        "/sites", 415, "unsupported-media-type", b"--b\r\n\r\nx\r\n--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    ),
    "JSON with no content type": Bad(
        "/arrivals", 415, "unsupported-media-type", as_json(an_arrival()), headers={}
    ),
    "JSON sent to the CSV import": Bad(
        "/sites/RC-SEC/imports", 415, "unsupported-media-type", as_json(an_arrival())
    ),
    # --- encoding and syntax --------------------------------------------------------------------
    "malformed JSON": Bad("/arrivals", 400, "malformed-request", b'{"site_code": "RC-SEC",'),
    "an empty body": Bad("/arrivals", 422, "invalid-request", b""),
    "invalid UTF-8 bytes": Bad(
        "/arrivals", 400, "malformed-request",
        as_json(an_arrival()).replace(SECRET_NAME.encode(), b"Hawa\xff\xfe\xc3"),
    ),
    "a lone UTF-16 surrogate": Bad(
        "/arrivals", 422, "unstorable-value",
        as_json(an_arrival()).replace(SECRET_NAME.encode(), rb"Hawa\ud800"),
    ),
    "JSON nested 100,000 deep": Bad("/arrivals", 400, "malformed-request", nested(100_000)),
    "JSON nested 5 deep where text belongs": Bad("/arrivals", 422, "invalid-request", nested(5)),
    # Past the domain's bound (32) the depth is what is wrong, wherever it is.
    "JSON nested 50 deep where text belongs": Bad(
        "/arrivals", 422, "unstorable-value", nested(50)
    ),
    "a number of 5,000 digits": Bad(
        "/sites", 400, "malformed-request",
        b'{"code": "RC-BIG", "name": "x", "kind": "camp", "capacity": 1' + b"0" * 5000 + b"}",
    ),
    "NaN where a number belongs": Bad(
        "/sites", 422, "invalid-input",
        b'{"code": "RC-NAN", "name": "x", "kind": "camp", "capacity": 1, "latitude": NaN}',
    ),
    "an array instead of an object": Bad("/arrivals", 422, "invalid-request", b"[1, 2, 3]"),
    # --- content ----------------------------------------------------------------------------
    "an unknown field": Bad(
        "/arrivals", 422, "invalid-request", as_json(an_arrival(nickname=SECRET_NAME))
    ),
    "a NUL byte in a name": Bad(
        "/arrivals", 422, "unstorable-value", as_json(an_arrival(given_name="Ha\x00wa"))
    ),
    "a NUL byte in a batch item": Bad(
        "/arrivals/batch", 422, "unstorable-value",
        as_json({"site_code": "RC-SEC", "arrivals": [arrival_json("R-NUL", family_name="\x00")]}),
    ),
    "a whole number of 30 digits in a correction": Bad(
        "/persons/{person}/corrections", 422, "unstorable-value",
        b'{"field": "estimated_age", "value": [1' + b"0" * 29 + b'], "reason": "x"}',
        headers={**JSON, "Idempotency-Key": "k-big"},  # the key's fingerprint once failed
    ),
    "a NUL byte in a path": Bad("/sites/RC%00SEC", 422, "unstorable-value", method="GET"),
    "a NUL byte in a query": Bad(
        "/sites/RC-SEC/roster?nationality=S%00DN", 422, "unstorable-value", method="GET"
    ),
    "a correction nested 900 deep": Bad(
        "/persons/{person}/corrections", 422, "unstorable-value",
        b'{"field": "specific_needs", "value": ' + b"[" * 900 + b"]" * 900 + b', "reason": "x"}',
    ),
    # The item is rejected alone (unstorable-value), which rejects an atomic batch whole.
    "a NUL byte in a synced command": Bad(
        "/sync", 422, "batch-rejected",
        as_json({"atomic": True, "items": [{
            "type": "register_arrival", "device_id": "tab-1", "idempotency_key": "k-nul",
            "body": an_arrival(given_name="\x00"),
        }]}),
    ),
}
# fmt: on


@pytest.fixture(scope="module")
def refused(figures: Figures) -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    figures.record("bad input over HTTP", requests_refused=len(found), cases=len(CASES))


@pytest.mark.parametrize("bad", CASES.values(), ids=CASES.keys())
def test_bad_input_gets_a_clear_problem_and_writes_nothing(
    running: Running, bad: Bad, refused: list[str]
) -> None:
    content = bad.content() if callable(bad.content) else bad.content
    before = running.writes()
    with running.client() as client:
        path = bad.path.format(person=running.world.persons[0])
        response = client.request(bad.method, path, content=content, headers=bad.headers)
    assert response.status_code == bad.status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body = response.json()
    assert body["type"] == PROBLEM_BASE + bad.problem, body
    assert body["status"] == bad.status and body["title"]
    assert SECRET_NAME not in response.text, "a refusal echoed personal data back"
    assert running.writes() == before, "a refused request wrote something"
    refused.append(bad.path)


def test_the_same_request_well_formed_is_accepted(running: Running) -> None:
    """The cases above fail for the reason they name, not because of their route or site."""
    with running.client() as client:
        response = client.post("/arrivals", json=an_arrival(registration_number="R-GOOD"))
    assert response.status_code == 201, response.text


def test_the_body_limit_is_the_one_the_app_sets() -> None:
    assert MAX_BODY_BYTES == 2 * 1024 * 1024
