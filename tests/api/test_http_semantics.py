"""What HTTP says a command's answer means: 201 with Location, a replay answering what the
first request answered, the Idempotency-Key rules of the IETF draft (422 for another body,
409 while the first is in flight), 412 for a failed If-Match (RFC 9110), and problem types
that resolve to pages campledger serves (RFC 9457)."""

from __future__ import annotations

import ast
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import psycopg
import pytest

from campledger.api.http.app import create_app
from campledger.api.services.problem_types import PROBLEM_TYPES
from campledger.domain.model import errors
from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem

API_SOURCE = Path(__file__).parents[2] / "api"


def post(api: Api, path: str, body: dict[str, Any], key: str | None = None, **headers: str) -> Any:
    sent = {**api.auth("admin"), **headers, **({"Idempotency-Key": key} if key else {})}
    return api.client.post(PREFIX + path, json=body, headers=sent)


HOLD = {"reason": "interview", "authority": "Governor", "order_reference": "ORD-1"}


def site_body(code: str) -> dict[str, Any]:
    return {"code": code, "name": f"Site {code}", "kind": "reception", "capacity": 100}


# --- 201 Created and Location ---------------------------------------------------------------


def test_what_a_command_creates_is_where_its_location_says(api: Api) -> None:
    code = api.fresh_code()
    opened = post(api, "/sites", site_body(code))
    assert opened.status_code == 201, opened.text
    assert opened.headers["Location"] == f"http://testserver{PREFIX}/sites/{code}"

    arrived = post(api, "/arrivals", {"site_code": code, **arrival_json(api.fresh_code("R"))})
    assert arrived.status_code == 201, arrived.text
    person = arrived.json()["person_id"]
    assert arrived.headers["Location"] == f"http://testserver{PREFIX}/persons/{person}"

    camp = api.open_site(kind="camp")
    planned = post(api, "/transfers", {"origin": code, "destination": camp, "manifest": [person]})
    assert planned.status_code == 201, planned.text
    transfer = planned.json()["transfer_id"]
    assert planned.headers["Location"] == f"http://testserver{PREFIX}/transfers/{transfer}"

    api.wait()
    for created in (opened, arrived, planned):
        read = api.client.get(created.headers["Location"], headers=api.auth("admin"))
        assert read.status_code == 200, (created.headers["Location"], read.text)


def test_a_batch_is_created_without_one_location_and_each_person_is_readable(api: Api) -> None:
    code = api.open_site()
    body = {"site_code": code, "arrivals": [arrival_json(api.fresh_code("R")) for _ in range(2)]}
    registered = post(api, "/arrivals/batch", body)
    assert registered.status_code == 201, registered.text
    assert "Location" not in registered.headers  # many people, none of them the primary one
    api.wait()
    for person in registered.json()["person_ids"]:
        assert api.client.get(f"{PREFIX}/persons/{person}", headers=api.auth("admin")).is_success


def test_a_command_that_creates_nothing_to_read_answers_200_without_location(api: Api) -> None:
    person = api.person(api.open_site())
    held = post(api, f"/persons/{person}/hold", HOLD)
    assert held.status_code == 200 and "Location" not in held.headers


# --- replays ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [201, 200])
def test_a_replay_answers_what_the_first_request_answered(api: Api, status: int) -> None:
    if status == 201:
        path, body = "/sites", site_body(api.fresh_code())
    else:
        path, body = f"/persons/{api.person(api.open_site())}/hold", HOLD
    key = f"replay-{api.unique()}"
    first = post(api, path, body, key)
    head = api.head()
    again = post(api, path, body, key)

    assert (first.status_code, again.status_code) == (status, status), again.text
    assert again.json() == {**first.json(), "replayed": True}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers.get("Location") == first.headers.get("Location")
    assert again.headers["X-Log-Position"] == first.headers["X-Log-Position"]
    assert api.head() == head


def test_the_same_key_with_another_body_is_unprocessable_and_writes_nothing(api: Api) -> None:
    key = f"reuse-{api.unique()}"
    assert post(api, "/sites", site_body(api.fresh_code()), key).status_code == 201
    before = api.writes()
    other = post(api, "/sites", site_body(api.fresh_code()), key)
    assert_problem(other, 422, "idempotency-key-reused")
    # Another command under the same key is another request too.
    person = api.person(api.open_site())
    before = api.writes()
    assert_problem(post(api, f"/persons/{person}/hold", HOLD, key), 422,
                   "idempotency-key-reused")  # fmt: skip
    assert api.writes() == before


# --- in flight --------------------------------------------------------------------------------


def in_flight(api: Api) -> int:
    row = api.conn.execute("SELECT count(*) FROM registry_events_inflight").fetchone()
    return int(row[0]) if row else 0


def test_a_copy_sent_while_the_first_is_applied_is_told_so_then_replays(
    api: Api, api_database_url: str
) -> None:
    """The first request is held at the event table's lock (another writer holds it): a copy
    with the same key is answered at once, 409 with Retry-After, instead of queueing."""
    code, key = api.fresh_code(), f"flight-{api.unique()}"
    with ThreadPoolExecutor(max_workers=1) as pool, psycopg.connect(api_database_url) as blocker:
        blocker.execute("LOCK TABLE registry_events IN EXCLUSIVE MODE")
        first = pool.submit(post, api, "/sites", site_body(code), key)
        deadline = time.monotonic() + 5
        while in_flight(api) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        head = api.head()
        copy = post(api, "/sites", site_body(code), key)
        problem = assert_problem(copy, 409, "idempotency-key-in-flight")
        assert copy.headers["Retry-After"] == "1" and "again" in problem["detail"]
        assert api.head() == head
        blocker.rollback()
        answered = first.result(timeout=10)
    assert answered.status_code == 201, answered.text
    again = post(api, "/sites", site_body(code), key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {**answered.json(), "replayed": True}
    assert in_flight(api) == 0  # let go once answered


def test_copies_racing_on_one_key_write_once(api: Api) -> None:
    """Eight copies of one request at once: one writes; each other one replays it or is
    told it is in flight; the site is opened once."""
    code, key = api.fresh_code(), f"burst-{api.unique()}"
    barrier = threading.Barrier(8)
    head = api.head()

    def fire(_: int) -> httpx.Response:
        barrier.wait(timeout=10)
        response: httpx.Response = post(api, "/sites", site_body(code), key)
        return response

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(fire, range(8)))
    outcomes = Counter(
        "in flight" if a.status_code == 409 else "replayed" if a.json()["replayed"] else "wrote"
        for a in answers
    )
    assert outcomes["wrote"] == 1, [a.text for a in answers]
    assert outcomes["in flight"] + outcomes["replayed"] == 7, outcomes
    for answer in answers:
        if answer.status_code == 409:
            assert_problem(answer, 409, "idempotency-key-in-flight")
        else:
            assert answer.status_code == 201
    assert api.head() == head + 1
    assert in_flight(api) == 0


def test_a_refused_command_lets_go_of_its_key(api: Api) -> None:
    key = f"refused-{api.unique()}"
    refused = post(api, "/arrivals", {"site_code": "NOWHERE", **arrival_json("R-X")}, key)
    assert_problem(refused, 404, "site-not-found")
    assert in_flight(api) == 0


# --- If-Match ---------------------------------------------------------------------------------


def test_a_failed_if_match_is_412_and_writes_nothing(api: Api) -> None:
    person = api.person(api.open_site())
    api.wait()
    etag = api.client.get(f"{PREFIX}/persons/{person}", headers=api.auth("admin")).headers["ETag"]
    assert post(api, f"/persons/{person}/hold", HOLD, **{"If-Match": etag}).is_success
    before = api.writes()
    stale = post(api, f"/persons/{person}/release", {"reason": "y"}, **{"If-Match": etag})
    problem = assert_problem(stale, 412, "precondition-failed")
    assert problem["version"] == 2
    assert api.writes() == before


# --- problem types ----------------------------------------------------------------------------


def codes_in_source() -> set[str]:
    """Every problem code the API's own source names where it builds a problem."""
    found: set[str] = set()
    for path in API_SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if name in ("ApiProblem", "problem_response", "problem_body") and len(args) >= 2:
                found.add(str(args[1]))  # a code from a variable is a domain error's
            elif name == "not_found" and args:
                found.add(f"{args[0]}-not-found")
    found.discard("None")
    return found


def every_domain_code() -> set[str]:
    def walk(cls: type[errors.DomainError]) -> set[str]:
        return {cls.code}.union(*(walk(sub) for sub in cls.__subclasses__()))

    return walk(errors.DomainError)


def test_every_problem_the_server_can_answer_has_a_page(api: Api) -> None:
    # The HTTP errors FastAPI raises (api/http/problems.py, on_http_error), by their codes.
    starlette = {"malformed-request", "not-found", "method-not-allowed", "payload-too-large"}
    emitted = codes_in_source() | every_domain_code() | starlette | {"http-error"}
    assert len(emitted) > 60, sorted(emitted)
    assert emitted <= set(PROBLEM_TYPES), sorted(emitted - set(PROBLEM_TYPES))
    for code, problem in PROBLEM_TYPES.items():
        page = api.client.get(f"/problems/{code}")  # no token: the pages are public
        assert page.status_code == 200, code
        assert page.headers["content-type"].startswith("text/html")
        assert problem.title in page.text and "What to do" in page.text
        assert str(problem.status or "status of the HTTP error") in page.text
    index = api.client.get("/problems")
    assert index.status_code == 200
    assert all(f'href="/problems/{code}"' in index.text for code in PROBLEM_TYPES)


def test_an_unknown_problem_code_is_a_404_problem(api: Api) -> None:
    assert_problem(api.client.get("/problems/no-such-thing"), 404, "not-found")


def test_a_problem_type_resolves_to_its_page(api: Api) -> None:
    refused = api.client.get(f"{PREFIX}/sites/NOWHERE-{api.unique()}", headers=api.auth("admin"))
    problem = assert_problem(refused, 404, "site-not-found")
    assert problem["type"] == "/problems/site-not-found"  # relative, RFC 9457 3.1.1
    page = api.client.get(urljoin(str(refused.url), problem["type"]))
    assert page.status_code == 200 and "No site has this code" in page.text


def test_the_document_states_the_rules(api: Api) -> None:
    document = create_app(api.backend, run_projector=False).openapi()
    paths = document["paths"]
    for path, op in (("/sites", "post"), ("/arrivals", "post"), ("/transfers", "post")):
        created = paths[PREFIX + path][op]["responses"]["201"]["headers"]
        assert created["Location"]["required"] is True, path
        assert created["Idempotent-Replayed"]["required"] is False, path
        # A replay answers 201 as well: no separate 200 is promised.
        assert "200" not in paths[PREFIX + path][op]["responses"], path
    assert "Location" not in paths[PREFIX + "/arrivals/batch"]["post"]["responses"]["201"].get(
        "headers", {}
    )
    hold = paths[PREFIX + "/persons/{person_id}/hold"]["post"]
    assert "precondition-failed" in hold["responses"]["412"]["description"]
    assert "idempotency-key-in-flight" in hold["responses"]["409"]["description"]
    assert "idempotency-key-reused" in hold["responses"]["422"]["description"]
    key = next(p for p in hold["parameters"] if p["name"] == "Idempotency-Key")
    assert "never expire" in key["description"]
    problem_type = document["components"]["schemas"]["Problem"]["properties"]["type"]
    assert problem_type["format"] == "uri-reference"
