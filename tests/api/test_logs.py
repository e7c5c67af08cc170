"""Logs: a request id per HTTP request (the client's, when usable, else a new one), echoed
in the answer and in every log line of that request; text or JSON lines; and no personal
data in either, even when a request fails on that data or the code raises quoting it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from campledger.api.http.logs import LogFormat, configure_logging
from campledger.api.http.request_id import HEADER
from tests.api.conftest import PREFIX, Api, arrival_json


@pytest.fixture
def captured() -> Iterator[Any]:
    """configure_logging as serve calls it, into a buffer; the root logger as it was after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    # The test's own HTTP client logs each request it sends, query and all: not the server.
    client_log = logging.getLogger("httpx")
    client_level = client_log.level
    client_log.setLevel(logging.WARNING)

    def capture(log_format: LogFormat, level: str = "DEBUG") -> io.StringIO:
        buffer = io.StringIO()
        configure_logging(level, log_format, stream=buffer)
        return buffer

    try:
        yield capture
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        client_log.setLevel(client_level)


def test_a_request_id_is_made_when_missing_kept_when_valid_and_replaced_when_not(
    api: Api,
) -> None:
    made = api.client.get("/livez").headers[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert api.client.get("/livez").headers[HEADER] != made
    for valid in ("abc-123", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"):
        assert api.client.get("/livez", headers={HEADER: valid}).headers[HEADER] == valid
    for invalid in ("has space", "x" * 129, 'quote"d', "<script>", ""):
        answered = api.client.get("/livez", headers={HEADER: invalid}).headers[HEADER]
        assert answered != invalid and re.fullmatch(r"[0-9a-f]{32}", answered), invalid


def test_every_answer_carries_it_and_declares_it_errors_included(api: Api) -> None:
    for response in (
        api.client.get(f"{PREFIX}/sites"),  # 401
        api.client.get(f"{PREFIX}/nowhere", headers=api.auth("admin")),  # 404
        api.client.post(f"{PREFIX}/arrivals", json={}, headers=api.auth("admin")),  # 422
        api.client.get("/readyz"),
        api.client.get("/openapi.json"),
        api.client.get("/"),  # the console
    ):
        assert HEADER in response.headers, response.request.url
    document = api.client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                declared = answer.get("headers", {}).get(HEADER)
                assert declared and declared["required"], (method, path, status)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_log_line_of_a_request_carries_its_id(
    api: Api, captured: Any, log_format: LogFormat
) -> None:
    buffer = captured(log_format)
    app = api.client.app
    said = logging.getLogger("campledger.test")

    def in_a_thread() -> None:  # a synchronous endpoint runs in the thread pool
        said.warning("logged from the thread pool")

    async def in_the_loop() -> None:
        said.warning("logged from the event loop")

    for path, endpoint in (("/test-only/thread", in_a_thread), ("/test-only/loop", in_the_loop)):
        app.add_api_route(path, endpoint)  # type: ignore[attr-defined]
        app.router.routes.insert(0, app.router.routes.pop())  # type: ignore[attr-defined]
    try:
        for path in ("/test-only/thread", "/test-only/loop"):
            request_id = f"trace-{log_format}-{path.rsplit('/', 1)[1]}"
            response = api.client.get(path, headers={HEADER: request_id})
            assert response.headers[HEADER] == request_id
        # And a real one: a console form posted without its CSRF token.
        refused = api.client.post("/sign-in", data={"name": "x"}, headers={HEADER: "csrf-1"})
        assert refused.status_code in (400, 403), refused.status_code
    finally:
        del app.router.routes[:2]  # type: ignore[attr-defined]
    lines = buffer.getvalue().splitlines()
    expected = {
        "logged from the thread pool": f"trace-{log_format}-thread",
        "logged from the event loop": f"trace-{log_format}-loop",
        "CSRF": "csrf-1",
    }
    for words, request_id in expected.items():
        found = [line for line in lines if words in line]
        assert found, (words, lines)
        for line in found:
            if log_format == "json":
                record = json.loads(line)
                assert record["request_id"] == request_id
                assert {"time", "level", "logger", "message"} <= set(record)
            else:
                assert f"[{request_id}]" in line


def test_a_line_outside_any_request_has_no_id(captured: Any) -> None:
    buffer = captured("json")
    logging.getLogger("campledger.test").info("between requests")
    record = json.loads(buffer.getvalue().splitlines()[-1])
    assert record["message"] == "between requests" and "request_id" not in record
    text = captured("text")
    logging.getLogger("campledger.test").info("between requests")
    assert " [-]: between requests" in text.getvalue()


# Names and numbers no log line could contain by chance.
GIVEN, FAMILY = "Zubeydaqwix", "Ombrellvanti"
NUMBER, BIOMETRIC = "REG-QX7731-PRIVATE", "BIO-ZZ9-PLURAL-Z-ALPHA"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_personal_data_reaches_the_logs_when_requests_fail_on_it(
    api: Api, captured: Any, log_format: LogFormat
) -> None:
    buffer = captured(log_format)
    admin = api.auth("admin")
    site = api.open_site()
    suffix = f"-{log_format}"
    person = arrival_json(
        NUMBER + suffix,
        given_name=GIVEN,
        family_name=FAMILY,
        biometric_reference=BIOMETRIC + suffix,
    )
    registered = api.client.post(
        f"{PREFIX}/arrivals/batch", json={"site_code": site, "arrivals": [person]}, headers=admin
    )
    assert registered.status_code == 201, registered.text
    api.wait()
    failures = [
        # The same registration number again: refused, naming the clash.
        api.client.post(
            f"{PREFIX}/arrivals/batch",
            json={"site_code": site, "arrivals": [person]},
            headers=admin,
        ),
        # A NUL inside the name: unstorable.
        api.client.post(
            f"{PREFIX}/arrivals",
            json={"site_code": site, **person, "given_name": GIVEN + "\x00"},
            headers=admin,
        ),
        # Invalid values beside the name: a validation error.
        api.client.post(
            f"{PREFIX}/arrivals",
            json={"site_code": site, **person, "sex": GIVEN, "estimated_age": FAMILY},
            headers=admin,
        ),
        # The name and number in a path and a query.
        api.client.get(f"{PREFIX}/persons/{NUMBER}", headers=admin, params={"q": GIVEN}),
        api.client.get(f"{PREFIX}/sites/{GIVEN}/roster", headers=admin),
        # No token, a token for nothing.
        api.client.post(f"{PREFIX}/arrivals", json=person),
        api.client.post(
            f"{PREFIX}/arrivals", json=person, headers={"Authorization": f"Bearer {FAMILY}"}
        ),
    ]
    assert all(response.status_code >= 400 for response in failures), [
        response.status_code for response in failures
    ]
    # Reads of the person too, and the sign-in of someone using the name as an account.
    roster = api.client.get(f"{PREFIX}/sites/{site}/roster", headers=admin)
    assert GIVEN in roster.text
    api.client.post("/sign-in", data={"name": GIVEN, "password": FAMILY})
    _explode_quoting_the_name(api)

    output = buffer.getvalue()
    assert output.strip(), "nothing was logged: the test would prove nothing"
    # The access log (DEBUG) names each request by its route template, never its path.
    assert "GET /sites/{code}/roster 404" in output, output
    # The exception below was logged, its chain in order, without its messages.
    assert output.index("KeyError (message withheld)") < output.index("ValueError (message")
    for secret in (GIVEN, FAMILY, NUMBER, BIOMETRIC):
        assert secret not in output, (secret, output)
    if log_format == "json":
        for line in output.splitlines():
            json.loads(line)  # every line is one JSON object, tracebacks included


def _explode_quoting_the_name(api: Api) -> None:
    """A bug whose exception message quotes a person's data: the log shows its class and
    where it was raised, not the message."""
    app = api.client.app

    def explode() -> None:
        try:
            raise KeyError(NUMBER)
        except KeyError as e:
            raise ValueError(f"cannot file {GIVEN} {FAMILY}") from e

    app.add_api_route("/test-only/explode-with-a-name", explode)  # type: ignore[attr-defined]
    app.router.routes.insert(0, app.router.routes.pop())  # type: ignore[attr-defined]
    try:
        response = TestClient(app, raise_server_exceptions=False).get(
            "/test-only/explode-with-a-name"
        )
    finally:
        app.router.routes.pop(0)  # type: ignore[attr-defined]
    assert response.status_code == 500 and HEADER in response.headers
    # In a server the exception escapes to uvicorn, which logs it; here, log it as it does.
    try:
        explode()
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
