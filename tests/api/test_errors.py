"""Every error status the API answers, each as problem+json with a stable type, and each
refused request leaving the log (and the access trail) exactly as it was."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest

from campledger.api.http import deps
from campledger.projections.engine import PROJECTOR_LOCK
from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem

# A hold names its authority and order (required by the API).
HOLD = {"reason": "x", "authority": "Governor", "order_reference": "ORD-1"}

# Values a refusal must never echo back: they are somebody's personal data.
SECRET_NAME = "Zaynab-Qx7"
SECRET_FAMILY = "Abakar-Qx7"
SECRET_BIRTH = "1987-02-30"  # not a date: the schema refuses it


@dataclass(frozen=True)
class World:
    home: str
    destination: str
    closed: str
    present: UUID
    held: UUID
    transfer: UUID
    taken_number: str


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    home, destination = api.open_site(), api.open_site(kind="camp")
    closed = api.open_site()
    api.registry.close_site(code=closed, reason="flooded", actor="setup")
    taken = api.fresh_code("R")
    present = api.person(home, registration_number=taken)
    world = World(
        home=home,
        destination=destination,
        closed=closed,
        present=present,
        held=api.held_person(home),
        transfer=api.planned_transfer(home, destination),
        taken_number=taken,
    )
    api.wait()
    return world


Call = Callable[[Api, World], httpx.Response]


def send(
    method: str,
    path: str,
    body: Any = None,
    *,
    role: str | None = "admin",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Call:
    """A request to make against the world; ``path`` may name the world's fields."""

    def call(api: Api, world: World) -> httpx.Response:
        sent = {**(api.auth(role) if role else {}), **(headers or {})}
        url = PREFIX + path.format(w=world)
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
            return api.client.request(method, url, content=content, headers=sent)
        payload = body(world) if callable(body) else body
        return api.client.request(method, url, json=payload, headers=sent)

    return call


def new_arrival(site: str = "{w.home}", **fields: Any) -> Callable[[World], dict[str, Any]]:
    def body(world: World) -> dict[str, Any]:
        number = f"R-new-{uuid4().hex[:8]}"
        return {"site_code": site.format(w=world), **arrival_json(number, **fields)}

    return body


def personal(**fields: Any) -> Callable[[World], dict[str, Any]]:
    return new_arrival(given_name=SECRET_NAME, family_name=SECRET_FAMILY, **fields)


BAD_REQUESTS: dict[str, tuple[Call, int, str]] = {
    # 400: not JSON at all
    "malformed JSON": (
        send("POST", "/arrivals", content=b'{"site_code": '), 400, "malformed-request",
    ),
    "malformed JSON batch": (
        send("POST", "/arrivals/batch", content=b"[1, 2,"), 400, "malformed-request",
    ),
    "If-Match not a version": (
        send("POST", "/persons/{w.present}/hold", HOLD, headers={"If-Match": "abc"}),
        400, "bad-if-match",
    ),
    "unknown roster status": (send("GET", "/sites/{w.home}/roster?status=lost"), 400, "bad-query"),
    # 422: well-formed, but not acceptable
    "invalid nationality": (send("POST", "/arrivals", personal(nationality="ZZQ")), 422,
                            "invalid-nationality"),
    "invalid sex": (send("POST", "/arrivals", personal(sex="x")), 422, "invalid-sex"),
    "date of birth not a date": (
        send("POST", "/arrivals", personal(date_of_birth=SECRET_BIRTH)), 422, "invalid-request",
    ),
    "name not text": (
        send("POST", "/arrivals", new_arrival(given_name=[SECRET_NAME])), 422, "invalid-request",
    ),
    "unknown field": (
        send("POST", "/arrivals", personal(nickname=SECRET_NAME)), 422, "invalid-request",
    ),
    "age out of range": (send("POST", "/arrivals", personal(estimated_age=400)), 422,
                         "invalid-request"),
    "occurred in the future": (
        send("POST", "/arrivals", personal(occurred_at="2999-01-01T00:00:00Z")), 422,
        "occurred-in-future",
    ),
    "correction with a bad value": (
        send("POST", "/persons/{w.present}/corrections",
             {"field": "date_of_birth", "value": SECRET_BIRTH, "reason": "x"}),
        422, "invalid-age",
    ),
    "correction of an unknown field": (
        send("POST", "/persons/{w.present}/corrections",
             {"field": "favourite_colour", "value": SECRET_NAME, "reason": "x"}),
        422, "invalid-input",
    ),
    "screening outcome unknown": (
        send("POST", "/persons/{w.present}/screening-steps", {"step": "medical", "outcome": "meh"}),
        422, "invalid-screening-outcome",
    ),
    "empty batch": (send("POST", "/arrivals/batch", {"site_code": "X", "arrivals": []}), 422,
                    "invalid-input"),
    "empty manifest": (
        send("POST", "/transfers", {"origin": "{w.home}", "destination": "X", "manifest": []}),
        422, "invalid-request",
    ),
    "negative wait_for": (send("GET", "/sites?wait_for=-1"), 422, "invalid-request"),
    # 404: nobody by that code or id
    "unknown site": (send("GET", "/sites/NOWHERE"), 404, "site-not-found"),
    "unknown site occupancy": (send("GET", "/sites/NOWHERE/occupancy"), 404, "site-not-found"),
    "unknown site roster": (send("GET", "/sites/NOWHERE/roster"), 404, "site-not-found"),
    "unknown site roster CSV": (
        send("GET", "/sites/NOWHERE/roster?format=csv"), 404, "site-not-found",
    ),
    "unknown site flows": (
        send("GET", "/sites/NOWHERE/flows?start=2025-01-01&end=2025-01-02"), 404, "site-not-found",
    ),
    "capacity of unknown site": (
        send("POST", "/sites/NOWHERE/capacity", {"capacity": 5}), 404, "site-not-found",
    ),
    "arrival at unknown site": (
        send("POST", "/arrivals", new_arrival(site="NOWHERE")), 404, "site-not-found",
    ),
    "unknown person": (send("GET", f"/persons/{uuid4()}"), 404, "person-not-found"),
    "hold unknown person": (
        send("POST", f"/persons/{uuid4()}/hold", HOLD), 404, "person-not-found",
    ),
    "merge into unknown person": (
        send("POST", "/persons/{w.present}/merge", {"survivor_id": str(uuid4()), "reason": "x"}),
        404, "person-not-found",
    ),
    "unknown transfer": (send("GET", f"/transfers/{uuid4()}"), 404, "transfer-not-found"),
    "dispatch unknown transfer": (
        send("POST", f"/transfers/{uuid4()}/dispatch", {}), 404, "transfer-not-found",
    ),
    "unknown route": (send("GET", "/nothing-here"), 404, "not-found"),
    "wrong method": (send("DELETE", "/sites"), 405, "method-not-allowed"),
    # 409: a rule of the operation says no
    "transfer a held person": (
        send("POST", "/transfers", lambda w: {"origin": w.home, "destination": w.destination,
                                               "manifest": [str(w.held)]}),
        409, "person-held",
    ),
    "duplicate registration number": (
        send("POST", "/arrivals", lambda w: {"site_code": w.home, **arrival_json(w.taken_number)}),
        409, "duplicate-registration-number",
    ),
    "site already open": (
        send("POST", "/sites", lambda w: {"code": w.home, "name": "n", "kind": "camp",
                                           "capacity": 1}),
        409, "site-already-exists",
    ),
    "arrival at a closed site": (
        send("POST", "/arrivals", new_arrival(site="{w.closed}")), 409, "site-closed",
    ),
    "release someone not held": (
        send("POST", "/persons/{w.present}/release", {"reason": "x"}), 409, "person-not-held",
    ),
    "receive before dispatch": (
        send("POST", "/transfers/{w.transfer}/receipts",
             lambda w: {"site_code": w.destination, "persons": [str(w.present)]}),
        409, "transfer-state-invalid",
    ),
    "stale If-Match": (
        send("POST", "/persons/{w.present}/hold", HOLD, headers={"If-Match": '"99"'}),
        412, "precondition-failed",
    ),
    # 401: who is calling?
    "no token": (send("GET", "/sites", role=None), 401, "unauthorised"),
    "no token on a command": (send("POST", "/arrivals", personal(), role=None), 401,
                              "unauthorised"),
    "not a bearer token": (
        send("GET", "/sites", role=None, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}),
        401, "unauthorised",
    ),
    "unknown token": (
        send("GET", "/sites", role=None, headers={"Authorization": "Bearer cl_123456_nope"}),
        401, "unauthorised",
    ),
    "garbage token": (
        send("POST", "/arrivals", personal(), role=None,
             headers={"Authorization": "Bearer ' OR 1=1 --"}),
        401, "unauthorised",
    ),
    # 403: known caller, not allowed
    "wrong role": (send("POST", "/arrivals", personal(), role="auditor"), 403, "forbidden"),
    "wrong role for a site": (
        send("POST", "/sites", {"code": "NEW", "name": "n", "kind": "camp", "capacity": 1},
             role="registrar"),
        403, "forbidden",
    ),
    # 413: too much at once
    "batch over 1,000": (
        send("POST", "/arrivals/batch", lambda w: {
            "site_code": w.home,
            "arrivals": [arrival_json(f"R-big-{i}") for i in range(1_001)],
        }),
        413, "batch-too-large",
    ),
    "body over 2 MB": (
        send("POST", "/arrivals", content=b'{"site_code": "' + b"x" * (2 * 1024 * 1024) + b'"}'),
        413, "payload-too-large",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_a_refused_request_is_a_problem_and_writes_nothing(
    api: Api, world: World, case: str
) -> None:
    call, status, code = BAD_REQUESTS[case]
    before = api.writes()
    response = call(api, world)
    body = assert_problem(response, status, code)
    assert api.writes() == before
    for secret in (SECRET_NAME, SECRET_FAMILY, SECRET_BIRTH):
        assert secret not in response.text, body
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(api: Api, world: World) -> None:
    name = f"field-tablet-{api.unique()}"
    token = api.named_token(name, "registrar")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get(f"{PREFIX}/sites/{world.home}", headers=headers).status_code == 200
    api.revoked_auth()  # another token's revocation changes nothing for this one
    assert api.client.get(f"{PREFIX}/sites/{world.home}", headers=headers).status_code == 200

    from campledger.api.services.auth import revoke_token

    assert revoke_token(api.conn, name)
    before = api.writes()
    body = {"site_code": world.home, **arrival_json(api.fresh_code("R"))}
    refused = api.client.post(f"{PREFIX}/arrivals", json=body, headers=headers)
    assert_problem(refused, 401, "unauthorised")
    assert api.writes() == before


def test_a_token_scoped_to_another_site_is_refused(api: Api, world: World) -> None:
    elsewhere = api.auth("admin", sites=["SOMEWHERE-ELSE"])
    before = api.writes()
    for method, path, body in (
        ("GET", f"/sites/{world.home}", None),
        ("GET", f"/persons/{world.present}", None),
        ("POST", "/arrivals", {"site_code": world.home, **arrival_json(api.fresh_code("R"))}),
        ("POST", f"/persons/{world.present}/hold", HOLD),
        ("POST", f"/transfers/{world.transfer}/dispatch", {}),
    ):
        response = api.client.request(method, PREFIX + path, json=body, headers=elsewhere)
        assert_problem(response, 403, "out-of-scope")
    assert api.writes() == before


def test_an_oversized_body_sent_in_chunks_is_refused_as_too_large(api: Api, world: World) -> None:
    """A client streaming its body (no Content-Length) meets the same limit."""

    def chunks() -> Iterator[bytes]:
        yield b'{"site_code": "'
        for _ in range(25):
            yield b"x" * 100_000
        yield b'"}'

    before = api.writes()
    response = api.client.post(
        f"{PREFIX}/arrivals",
        content=chunks(),
        headers={**api.auth("admin"), "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")
    assert api.writes() == before


def test_waiting_for_a_position_beyond_the_head_is_refused_at_once_naming_the_head(
    api: Api, world: World
) -> None:
    head = api.head()
    beyond = head + 1_000
    for path in ("/sites", f"/sites/{world.home}/roster", f"/persons/{world.present}"):
        started = time.perf_counter()
        response = api.client.get(
            PREFIX + path, params={"wait_for": beyond}, headers=api.auth("admin")
        )
        body = assert_problem(response, 422, "position-beyond-head")
        assert body["head"] >= head and str(beyond) in body["detail"]
        assert time.perf_counter() - started < 1.0
    reached = api.client.get(
        f"{PREFIX}/sites", params={"wait_for": api.head()}, headers=api.auth("admin")
    )
    assert reached.status_code == 200


def test_waiting_for_a_position_not_reached_in_time_answers_503_with_retry_after(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deps, "MAX_WAIT_SECONDS", 0.3)
    api.wait()
    # The live projector cannot apply a batch while the test holds its lock.
    with psycopg.connect(api.backend.database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (PROJECTOR_LOCK,))
        written = api.open_site()
        target = api.head()
        for path in ("/sites", f"/sites/{world.home}/roster", f"/persons/{world.present}"):
            response = api.client.get(
                PREFIX + path, params={"wait_for": target}, headers=api.auth("admin")
            )
            body = assert_problem(response, 503, "not-yet-projected")
            assert response.headers["Retry-After"].isdigit()
            assert str(target) in body["detail"]
    site = api.client.get(
        f"{PREFIX}/sites/{written}", params={"wait_for": target}, headers=api.auth("admin")
    )
    assert site.status_code == 200


def test_a_validation_error_names_the_field_and_never_the_value(api: Api, world: World) -> None:
    body = {
        "site_code": world.home,
        **arrival_json(api.fresh_code("R"), given_name=SECRET_NAME, date_of_birth=SECRET_BIRTH),
    }
    response = api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("registrar"))
    problem = assert_problem(response, 422, "invalid-request")
    assert [e["loc"] for e in problem["errors"]] == [["body", "date_of_birth"]]
    assert all(set(e) == {"loc", "msg", "type"} for e in problem["errors"])
    assert SECRET_BIRTH not in response.text and SECRET_NAME not in response.text
