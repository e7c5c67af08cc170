"""What every command promises over HTTP: a retried request is applied once, a batch is
all or nothing, and the actor on each event is the token's name, never the request's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem


def register(
    api: Api, body: dict[str, Any], key: str | None = None, role: str = "registrar"
) -> Any:
    headers = {**api.auth(role), **({"Idempotency-Key": key} if key else {})}
    return api.client.post(f"{PREFIX}/arrivals", json=body, headers=headers)


def actors_of(api: Api, aggregate_id: UUID) -> list[str]:
    return [event.actor for event in api.registry.events.get(aggregate_id)]


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_idempotency_key_twice_registers_one_person(api: Api) -> None:
    code = api.open_site()
    body = {"site_code": code, **arrival_json(api.fresh_code("R"))}
    key = f"tablet-7-{api.unique()}"

    first = register(api, body, key)
    assert first.status_code == 201 and first.json()["replayed"] is False
    head = api.head()
    second = register(api, body, key)
    # What the first answered, status and Location included, flagged as a replay.
    assert second.status_code == 201, second.text
    assert second.json() == {**first.json(), "replayed": True}
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["X-Log-Position"] == first.headers["X-Log-Position"]
    assert api.head() == head

    roster = api.client.get(
        f"{PREFIX}/sites/{code}/roster",
        params={"wait_for": first.json()["position"]},
        headers=api.auth("site_manager"),
    ).json()["items"]
    assert [r["person_id"] for r in roster] == [first.json()["person_id"]]


def test_the_same_key_with_a_different_body_is_refused(api: Api) -> None:
    code = api.open_site()
    key = f"tablet-8-{api.unique()}"
    assert register(api, {"site_code": code, **arrival_json(api.fresh_code("R"))}, key).is_success
    before = api.writes()
    other = register(api, {"site_code": code, **arrival_json(api.fresh_code("R"))}, key)
    # 422, as the IETF draft "The Idempotency-Key HTTP Header Field" says.
    problem = assert_problem(other, 422, "idempotency-key-reused")
    assert "different request" in problem["detail"]
    assert api.writes() == before


def test_idempotency_keys_belong_to_the_caller_that_sent_them(api: Api) -> None:
    """Two field devices that happen to pick the same key do not see each other's result."""
    code = api.open_site()
    key = f"shared-{api.unique()}"
    mine = register(api, {"site_code": code, **arrival_json(api.fresh_code("R"))}, key)
    theirs = register(
        api, {"site_code": code, **arrival_json(api.fresh_code("R"))}, key, role="admin"
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["person_id"] != theirs.json()["person_id"]


HOLD = {"reason": "interview", "authority": "Governor", "order_reference": "ORD-1"}


def test_a_retried_command_on_a_person_is_replayed_not_refused(api: Api) -> None:
    person = api.person(api.open_site())
    key = f"hold-{api.unique()}"
    headers = {**api.auth("screener"), "Idempotency-Key": key}
    path = f"{PREFIX}/persons/{person}/hold"
    first = api.client.post(path, json=HOLD, headers=headers)
    head = api.head()
    again = api.client.post(path, json=HOLD, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["replayed"] is True
    assert again.json()["position"] == first.json()["position"]
    assert api.head() == head
    unkeyed = api.client.post(path, json=HOLD, headers=api.auth("screener"))
    assert_problem(unkeyed, 409, "person-held")


def test_a_retried_batch_is_replayed_whole(api: Api) -> None:
    code = api.open_site()
    body = {"site_code": code, "arrivals": [arrival_json(api.fresh_code("R")) for _ in range(3)]}
    headers = {**api.auth("registrar"), "Idempotency-Key": f"truck-{api.unique()}"}
    first = api.client.post(f"{PREFIX}/arrivals/batch", json=body, headers=headers)
    head = api.head()
    again = api.client.post(f"{PREFIX}/arrivals/batch", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["person_ids"] == first.json()["person_ids"]
    assert api.head() == head


def test_an_idempotency_key_over_200_characters_is_refused(api: Api) -> None:
    body = {"site_code": api.open_site(), **arrival_json(api.fresh_code("R"))}
    before = api.writes()
    response = register(api, body, "k" * 201)
    problem = assert_problem(response, 422, "invalid-request")
    assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert api.writes() == before


# --- batches ---------------------------------------------------------------------------------


def test_a_batch_with_one_bad_item_writes_nothing_and_names_the_item(api: Api) -> None:
    code = api.open_site()
    arrivals = [arrival_json(api.fresh_code("R")) for _ in range(5)]
    arrivals[3] = {**arrivals[3], "nationality": "QQQ", "given_name": "Halime-Zq9"}
    before = api.writes()
    response = api.client.post(
        f"{PREFIX}/arrivals/batch",
        json={"site_code": code, "arrivals": arrivals},
        headers=api.auth("registrar"),
    )
    problem = assert_problem(response, 422, "batch-rejected")
    assert [(i["index"], i["code"]) for i in problem["items"]] == [(3, "invalid-nationality")]
    assert "Halime-Zq9" not in response.text and "QQQ" not in response.text
    assert api.writes() == before

    # Nothing was half-registered: the good items go through once the bad one is fixed.
    arrivals[3]["nationality"] = "SDN"
    fixed = api.client.post(
        f"{PREFIX}/arrivals/batch",
        json={"site_code": code, "arrivals": arrivals},
        headers=api.auth("registrar"),
    )
    assert fixed.status_code == 201 and len(fixed.json()["person_ids"]) == 5


def test_a_batch_names_every_bad_item_by_index(api: Api) -> None:
    code = api.open_site()
    repeated = api.fresh_code("R")
    arrivals = [
        arrival_json(api.fresh_code("R")),
        arrival_json(api.fresh_code("R"), estimated_age=None),  # neither age nor birth date
        arrival_json(repeated),
        arrival_json(api.fresh_code("R"), sex="robot"),
        arrival_json(repeated),  # twice in this batch
    ]
    before = api.writes()
    response = api.client.post(
        f"{PREFIX}/arrivals/batch",
        json={"site_code": code, "arrivals": arrivals},
        headers=api.auth("registrar"),
    )
    problem = assert_problem(response, 422, "batch-rejected")
    found = {i["index"]: i for i in problem["items"]}
    assert sorted(found) == [1, 3, 4], found
    assert found[3]["code"] == "invalid-sex"
    assert found[4]["code"] == "duplicate-registration-number" and "item 2" in found[4]["message"]
    assert api.writes() == before


def test_a_batch_item_already_registered_is_named_with_the_existing_person(api: Api) -> None:
    code = api.open_site()
    taken = api.fresh_code("R")
    existing = api.person(code, registration_number=taken)
    arrivals = [arrival_json(api.fresh_code("R")), arrival_json(taken)]
    before = api.writes()
    response = api.client.post(
        f"{PREFIX}/arrivals/batch",
        json={"site_code": code, "arrivals": arrivals},
        headers=api.auth("registrar"),
    )
    # A conflict with what is recorded, as the same arrival alone would be.
    problem = assert_problem(response, 409, "batch-conflict")
    assert [(i["index"], i["code"], i["existing_person"]) for i in problem["items"]] == [
        (1, "duplicate-registration-number", str(existing))
    ]
    assert api.writes() == before
    alone = api.client.post(
        f"{PREFIX}/arrivals",
        json={"site_code": code, **arrival_json(taken)},
        headers=api.auth("registrar"),
    )
    assert_problem(alone, 409, "duplicate-registration-number")
    assert api.writes() == before


def test_a_batch_item_failing_the_schema_is_named_by_its_index(api: Api) -> None:
    arrivals = [arrival_json(api.fresh_code("R")) for _ in range(3)]
    arrivals[2]["estimated_age"] = "about forty"
    before = api.writes()
    response = api.client.post(
        f"{PREFIX}/arrivals/batch",
        json={"site_code": api.open_site(), "arrivals": arrivals},
        headers=api.auth("registrar"),
    )
    problem = assert_problem(response, 422, "invalid-request")
    assert [e["loc"] for e in problem["errors"]] == [["body", "arrivals", 2, "estimated_age"]]
    assert "about forty" not in response.text
    assert api.writes()[0] == before[0] + 1  # only the site opened above


# --- actors ---------------------------------------------------------------------------------


def test_an_actor_in_the_body_is_refused(api: Api) -> None:
    code = api.open_site()
    before = api.writes()
    for path, body in (
        ("/arrivals", {"site_code": code, "actor": "mallory", **arrival_json(api.fresh_code("R"))}),
        ("/arrivals/batch", {"site_code": code,
                             "arrivals": [{**arrival_json(api.fresh_code("R")), "actor": "m"}]}),
        ("/sites", {"code": api.fresh_code(), "name": "n", "kind": "camp", "capacity": 1,
                    "actor": "mallory"}),
        ("/transfers", {"origin": code, "destination": code, "manifest": [], "actor": "m"}),
    ):  # fmt: skip
        response = api.client.post(PREFIX + path, json=body, headers=api.auth("admin"))
        problem = assert_problem(response, 422, "invalid-request")
        assert any(e["loc"][-1] == "actor" and e["type"] == "extra_forbidden"
                   for e in problem["errors"])  # fmt: skip
    assert api.writes() == before


def test_events_carry_the_token_name_whatever_the_request_says(api: Api) -> None:
    origin, destination = api.open_site(), api.open_site(kind="camp")
    registrar_name = f"registrar-tablet-{api.unique()}"
    officer_name = f"officer-{api.unique()}"
    registrar = api.named_token(registrar_name, "registrar")
    officer = api.named_token(officer_name, "transfer_officer")

    def as_(token: str) -> dict[str, str]:
        # An actor claimed in a header or the query string is not the caller.
        return {"Authorization": f"Bearer {token}", "X-Actor": "mallory"}

    registered = api.client.post(
        f"{PREFIX}/arrivals",
        params={"actor": "mallory"},
        json={"site_code": origin, **arrival_json(api.fresh_code("R"))},
        headers=as_(registrar),
    )
    assert registered.status_code == 201, registered.text
    person = UUID(registered.json()["person_id"])
    planned = api.client.post(
        f"{PREFIX}/transfers",
        params={"actor": "mallory"},
        json={"origin": origin, "destination": destination, "manifest": [str(person)]},
        headers=as_(officer),
    ).json()
    transfer = UUID(planned["transfer_id"])

    assert actors_of(api, person) == [registrar_name, officer_name]
    assert set(actors_of(api, transfer)) == {officer_name}

    log = api.client.get(
        f"{PREFIX}/transfers/{transfer}",
        params={"wait_for": planned["position"]},
        headers=api.auth("admin"),
    ).json()
    assert log["planned_by"] == officer_name
    audit = api.client.get(
        f"{PREFIX}/audit/log", params={"subject_id": str(person)}, headers=api.auth("auditor")
    ).json()["items"]
    assert [e["actor"] for e in audit] == [registrar_name, officer_name]
    assert "mallory" not in str(audit)
