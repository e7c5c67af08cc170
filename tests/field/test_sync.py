"""Offline sync through the ASGI app: a reception point's queue of commands in one request.

Each item is answered on its own, the way its single endpoint would answer it; the same
batch sent again is harmless; an atomic batch is applied whole or not at all.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from campledger.api.services.sync import MAX_SYNC_ITEMS
from campledger.api.services.sync_items import COMMAND_TYPES
from campledger.domain.model import errors
from tests.api.conftest import PREFIX, Api, api, api_database_url, arrival_json, assert_problem

__all__ = ["api", "api_database_url"]  # fixtures

SYNC = f"{PREFIX}/sync"
DEVICE = "tablet-07"
# A hold names the authority and the order it was decided under.
ORDER = {"authority": "Governor", "order_reference": "ORD-1"}


def field_time(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


class Queue:
    """What a device records while offline: commands with keys and field times, in order."""

    def __init__(self, api: Api, device: str = DEVICE) -> None:
        self.api = api
        self.device = device
        self.items: list[dict[str, Any]] = []
        self.clock = 240.0  # minutes ago; each command happens a minute after the previous

    def add(self, kind: str, body: dict[str, Any], **target: Any) -> dict[str, Any]:
        self.clock -= 1
        item = {
            "idempotency_key": f"{self.device}-{self.api.unique()}",
            "occurred_at": field_time(self.clock),
            "device_id": self.device,
            "type": kind,
            "body": body,
            **{k: str(v) for k, v in target.items()},
        }
        self.items.append(item)
        return item

    def register(self, site: str, person_id: UUID | None = None) -> UUID:
        minted = person_id or uuid4()
        number = self.api.fresh_code("R")
        self.add(
            "register_arrival",
            {"site_code": site, **arrival_json(number), "person_id": str(minted)},
        )
        return minted

    def hold(self, person: UUID, reason: str = "interview") -> None:
        self.add("hold_person", {"reason": reason, **ORDER}, person_id=person)

    def release(self, person: UUID) -> None:
        self.add("release_person", {"reason": "cleared"}, person_id=person)

    def screen(self, person: UUID, step: str = "medical", outcome: str = "cleared") -> None:
        self.add("record_screening_step", {"step": step, "outcome": outcome}, person_id=person)


def sync(
    api: Api, items: list[dict[str, Any]], role: str = "admin", atomic: bool = False, **kw: Any
) -> httpx.Response:
    headers = kw.pop("headers", None) or api.auth(role, kw.pop("sites", ()))
    return api.client.post(SYNC, json={"atomic": atomic, "items": items}, headers=headers)


def statuses(response: httpx.Response) -> list[str]:
    return [r["status"] for r in response.json()["results"]]


def actors_of(api: Api, person: UUID) -> set[str]:
    return {event.actor for event in api.registry.events.get(person)}


# --- in order, each item on its own ------------------------------------------------------------


def test_a_queue_is_applied_in_order_and_each_item_answered(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    person = queue.register(site)
    queue.screen(person)
    queue.hold(person)

    response = sync(api, queue.items)

    assert response.status_code == 200, response.text
    body = response.json()
    assert statuses(response) == ["applied"] * 3
    positions = [r["position"] for r in body["results"]]
    assert positions == sorted(positions) and body["position"] == positions[-1] == api.head()
    assert response.headers["X-Log-Position"] == str(body["position"])
    assert body["results"][0]["result"] == {"person_id": str(person)}
    assert body["results"][2]["result"] == {"person_id": str(person), "version": 3}
    assert [r["idempotency_key"] for r in body["results"]] == [
        i["idempotency_key"] for i in queue.items
    ]
    assert body["counts"] == {"applied": 3, "already_applied": 0, "rejected": 0, "not_applied": 0}
    read = api.client.get(
        f"{PREFIX}/persons/{person}",
        params={"wait_for": body["position"]},
        headers=api.auth("admin"),
    )
    assert read.json()["status"] == "held"


def test_events_record_the_token_and_the_device_with_the_field_time(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api, device="tablet-42")
    person = queue.register(site)
    queue.hold(person)
    name = f"registrar-adre-{api.unique()}"
    token = api.named_token(name, "admin")

    sync(api, queue.items, headers={"Authorization": f"Bearer {token}"})

    events = list(api.registry.events.get(person))
    assert actors_of(api, person) == {f"{name}@tablet-42"}
    sent = [datetime.fromisoformat(i["occurred_at"]) for i in queue.items]
    assert [e.occurred_at for e in events] == sent


def test_the_same_batch_sent_again_is_all_already_applied_and_writes_nothing(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    person = queue.register(site)
    queue.hold(person)
    queue.release(person)
    first = sync(api, queue.items).json()
    before = api.writes()

    again = sync(api, queue.items)

    assert again.status_code == 200
    assert statuses(again) == ["already_applied"] * 3
    assert api.writes() == before
    body = again.json()
    assert [(r["position"], r["result"]) for r in body["results"]] == [
        (r["position"], r["result"]) for r in first["results"]
    ]
    assert body["position"] == first["position"]


def test_the_same_batch_sent_twice_at_once_is_applied_once(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    for _ in range(40):
        queue.hold(queue.register(site))
    before = api.head()
    headers = api.auth("admin")  # one token for both: made before the threads race

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: sync(api, queue.items, headers=headers), range(2)))

    assert [r.status_code for r in responses] == [200, 200]
    for first, second in zip(*(r.json()["results"] for r in responses), strict=True):
        assert sorted([first["status"], second["status"]]) == ["already_applied", "applied"]
        assert first["position"] == second["position"]
    assert api.head() == before + len(queue.items)


def test_a_bad_item_in_the_middle_is_rejected_with_its_own_problem_and_the_rest_applied(
    api: Api,
) -> None:
    site = api.open_site()
    queue = Queue(api)
    first = queue.register(site)
    queue.release(first)  # never held
    second = queue.register(site)
    queue.hold(second)

    response = sync(api, queue.items, role="admin")

    assert response.status_code == 200
    assert statuses(response) == ["applied", "rejected", "applied", "applied"]
    problem = response.json()["results"][1]["problem"]
    alone = api.client.post(
        f"{PREFIX}/persons/{first}/release", json={"reason": "cleared"}, headers=api.auth("admin")
    )
    assert problem == assert_problem(alone, 409, "person-not-held")
    assert "position" not in response.json()["results"][1]
    assert response.json()["counts"]["rejected"] == 1


def test_a_hold_after_the_registration_works_and_before_it_fails(api: Api) -> None:
    site = api.open_site()
    in_order = Queue(api)
    person = in_order.register(site)
    in_order.hold(person)
    assert statuses(sync(api, in_order.items)) == ["applied", "applied"]

    reversed_order = Queue(api)
    other = uuid4()
    reversed_order.hold(other)
    reversed_order.register(site, person_id=other)
    response = sync(api, reversed_order.items)

    assert statuses(response) == ["rejected", "applied"]
    problem = response.json()["results"][0]["problem"]
    assert problem["status"] == 404 and problem["type"].endswith("/person-not-found")


def test_a_malformed_item_is_rejected_alone_without_echoing_what_was_sent(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    person = queue.register(site)
    bad = queue.add("hold_person", {"reason": "x", **ORDER, "given_name": "Zaynab-Secret"},
                    person_id=person)  # fmt: skip
    unknown = queue.add("teleport_person", {}, person_id=person)
    clock_clash = queue.add("hold_person", {"reason": "x", **ORDER, "occurred_at": field_time(500)})
    clock_clash["person_id"] = str(person)
    queue.hold(person)

    response = sync(api, queue.items)

    assert response.status_code == 200
    assert statuses(response) == ["applied", "rejected", "rejected", "rejected", "applied"]
    results = response.json()["results"]
    problem = results[1]["problem"]
    assert problem["status"] == 422 and problem["type"].endswith("/invalid-request")
    assert [e["loc"] for e in problem["errors"]] == [["body", "given_name"]]
    assert "Zaynab-Secret" not in response.text
    assert results[1]["idempotency_key"] == bad["idempotency_key"]
    assert results[2]["problem"]["errors"][0]["type"] == "union_tag_invalid"
    assert (results[2]["idempotency_key"], results[2].get("type")) == (
        unknown["idempotency_key"],
        None,
    )
    assert "occurred_at" in results[3]["problem"]["errors"][0]["msg"]


def test_a_key_is_scoped_to_its_device(api: Api) -> None:
    site = api.open_site()
    one, two = Queue(api, device="tablet-1"), Queue(api, device="tablet-2")
    one.register(site)
    two.register(site)
    two.items[0]["idempotency_key"] = one.items[0]["idempotency_key"]

    assert statuses(sync(api, one.items + two.items)) == ["applied", "applied"]


def test_a_transfer_is_planned_dispatched_and_received_from_one_queue(api: Api) -> None:
    origin, destination = api.open_site(), api.open_site(kind="camp")
    traveller = api.person(origin)
    queue = Queue(api)
    queue.clock = 0.5  # the traveller was registered just now
    transfer = uuid4()
    queue.add(
        "plan_transfer",
        {"origin": origin, "destination": destination, "manifest": [str(traveller)]},
        transfer_id=transfer,
    )
    queue.add("dispatch_transfer", {}, transfer_id=transfer)
    queue.add(
        "receive_transfer",
        {"site_code": destination, "persons": [str(traveller)]},
        transfer_id=transfer,
    )
    for item in queue.items:
        item["occurred_at"] = datetime.now(UTC).isoformat()

    response = sync(api, queue.items, role="transfer_officer")

    assert statuses(response) == ["applied"] * 3, response.text
    assert response.json()["results"][2]["result"]["state"] == "reconciled"
    assert api.registry.get_person(traveller).site_code == destination


def test_a_plan_whose_minted_transfer_id_is_taken_is_rejected_alone(api: Api) -> None:
    # A device that minted an id already in the log (reused, or cloned from another
    # tablet) must not block its queue: retrying that item can never succeed.
    origin, destination = api.open_site(), api.open_site(kind="camp")
    taken = api.planned_transfer(origin, destination)
    traveller = api.person(origin)
    queue = Queue(api)
    queue.clock = 0.5
    queue.add(
        "plan_transfer",
        {"origin": origin, "destination": destination, "manifest": [str(traveller)]},
        transfer_id=taken,
    )
    newcomer = queue.register(origin)
    for item in queue.items:
        item["occurred_at"] = datetime.now(UTC).isoformat()

    response = sync(api, queue.items)

    assert response.status_code == 200, response.text
    assert statuses(response) == ["rejected", "applied"]
    problem = response.json()["results"][0]["problem"]
    assert problem["type"].endswith("/transfer-id-taken") and problem["status"] == 409
    assert api.registry.get_person(traveller).transfer_id is None
    assert api.registry.get_person(newcomer).site_code == origin
    again = sync(api, queue.items)  # what is rejected stays rejected: not a race to retry
    assert statuses(again) == ["rejected", "already_applied"]


# --- all or nothing ------------------------------------------------------------------------


def test_an_atomic_batch_is_applied_whole(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    person = queue.register(site)
    queue.hold(person)
    before = api.head()

    response = sync(api, queue.items, atomic=True)

    assert response.status_code == 200, response.text
    assert statuses(response) == ["applied", "applied"]
    assert [r["position"] for r in response.json()["results"]] == [before + 1, before + 2]
    again = sync(api, queue.items, atomic=True)
    assert statuses(again) == ["already_applied", "already_applied"]
    assert api.head() == before + 2


def test_an_atomic_batch_with_a_bad_item_writes_nothing(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    person = queue.register(site)
    queue.hold(person)
    queue.release(person)
    queue.release(person)  # released twice: refused
    queue.hold(person)
    before = api.writes()

    response = sync(api, queue.items, atomic=True)

    body = assert_problem(response, 422, "batch-rejected")
    assert "item 3" in body["detail"]
    assert [r["status"] for r in body["results"]] == [
        "not_applied",
        "not_applied",
        "not_applied",
        "rejected",
        "not_applied",
    ]
    assert body["results"][3]["problem"]["type"].endswith("/person-not-held")
    assert api.writes() == before
    with pytest.raises(errors.PersonNotFound):
        api.registry.get_person(person)
    # Nothing was spent: the same queue without the bad item goes through.
    del queue.items[3]
    assert statuses(sync(api, queue.items, atomic=True)) == ["applied"] * 4


def test_an_atomic_batch_with_a_forbidden_item_writes_nothing(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    person = queue.register(site)
    queue.hold(person)
    before = api.writes()

    response = sync(api, queue.items, role="registrar", atomic=True)

    body = assert_problem(response, 422, "batch-rejected")
    assert body["results"][1]["problem"]["type"].endswith("/forbidden")
    assert api.writes() == before


def test_an_atomic_batch_with_a_malformed_item_writes_nothing(api: Api) -> None:
    site = api.open_site()
    queue = Queue(api)
    queue.register(site)
    queue.add("hold_person", {"reason": "x", **ORDER})  # no person_id
    before = api.writes()

    body = assert_problem(sync(api, queue.items, atomic=True), 422, "batch-rejected")

    assert [r["status"] for r in body["results"]] == ["not_applied", "rejected"]
    assert api.writes() == before


# --- authorisation, item by item ----------------------------------------------------------------


def _single_endpoint(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Where the single endpoint of a sync item lives, and its body."""
    person, transfer = item.get("person_id"), item.get("transfer_id")
    path = {
        "register_arrival": "/arrivals",
        "record_screening_step": f"/persons/{person}/screening-steps",
        "hold_person": f"/persons/{person}/hold",
        "release_person": f"/persons/{person}/release",
        "record_departure": f"/persons/{person}/departure",
        "correct_detail": f"/persons/{person}/corrections",
        "plan_transfer": "/transfers",
        "dispatch_transfer": f"/transfers/{transfer}/dispatch",
        "receive_transfer": f"/transfers/{transfer}/receipts",
    }[item["type"]]
    return PREFIX + path, item["body"]


def _every_kind(api: Api, site: str, person: UUID, transfer: UUID) -> Queue:
    queue = Queue(api)
    queue.register(site)
    queue.screen(person)
    queue.hold(person)
    queue.release(person)
    queue.add("record_departure", {"reason": "returned"}, person_id=person)
    queue.add(
        "correct_detail",
        {"field": "family_name", "value": "Adam", "reason": "typo"},
        person_id=person,
    )
    queue.add("plan_transfer", {"origin": site, "destination": site, "manifest": [str(person)]})
    queue.add("dispatch_transfer", {}, transfer_id=transfer)
    queue.add(
        "receive_transfer", {"site_code": site, "persons": [str(person)]}, transfer_id=transfer
    )
    return queue


@pytest.mark.parametrize("role", ["auditor", "transfer_officer", "screener", "registrar"])
def test_each_item_is_refused_exactly_as_its_single_endpoint_refuses_it(
    api: Api, role: str
) -> None:
    home, away = api.open_site(), api.open_site()
    person, transfer = api.person(away), api.planned_transfer(away, home)
    queue = _every_kind(api, away, person, transfer)
    before = api.writes()

    response = sync(api, queue.items, role=role, sites=[home])

    assert response.status_code == 200
    for item, result in zip(queue.items, response.json()["results"], strict=True):
        path, body = _single_endpoint(item)
        alone = api.client.post(path, json=body, headers=api.auth(role, [home]))
        assert alone.status_code == 403, (item["type"], alone.text)
        assert result["status"] == "rejected", item["type"]
        assert result["problem"] == alone.json(), item["type"]
    assert api.writes() == before


def test_a_scoped_token_applies_what_is_in_its_scope_and_nothing_else(api: Api) -> None:
    home, away = api.open_site(), api.open_site()
    queue = Queue(api)
    mine = queue.register(home)
    queue.hold(mine)
    queue.register(away)

    response = sync(api, queue.items, role="admin", sites=[home])

    assert statuses(response) == ["applied", "applied", "rejected"]
    problem = response.json()["results"][2]["problem"]
    assert problem["type"].endswith("/out-of-scope") and problem["status"] == 403


def test_a_role_applies_only_the_items_its_job_allows(api: Api) -> None:
    site = api.open_site()
    person = api.person(site)
    queue = Queue(api)
    queue.clock = 0.5
    queue.register(site)
    queue.screen(person)
    for item in queue.items:
        item["occurred_at"] = datetime.now(UTC).isoformat()

    response = sync(api, queue.items, role="screener")

    assert statuses(response) == ["rejected", "applied"]
    assert response.json()["results"][0]["problem"]["type"].endswith("/forbidden")


def test_sync_needs_a_token(api: Api) -> None:
    queue = Queue(api)
    queue.register(api.open_site())
    assert_problem(api.client.post(SYNC, json={"items": queue.items}), 401, "unauthorised")
    assert_problem(sync(api, queue.items, headers=api.revoked_auth()), 401, "unauthorised")


# --- bounds ------------------------------------------------------------------------------------


def test_a_batch_over_the_limit_is_refused_whole_with_413(api: Api) -> None:
    site = api.open_site()
    person = api.person(site)
    queue = Queue(api)
    for _ in range(MAX_SYNC_ITEMS + 1):
        queue.hold(person)
    before = api.writes()

    response = sync(api, queue.items)

    body = assert_problem(response, 413, "batch-too-large")
    assert str(MAX_SYNC_ITEMS) in body["detail"]
    assert api.writes() == before


def test_a_full_batch_of_registrations_is_applied(api: Api) -> None:
    site = api.open_site(capacity=2_000)
    queue = Queue(api)
    queue.clock = MAX_SYNC_ITEMS + 10.0
    for _ in range(MAX_SYNC_ITEMS):
        queue.register(site)

    response = sync(api, queue.items, atomic=True)

    assert response.status_code == 200, response.text[:500]
    assert response.json()["counts"]["applied"] == MAX_SYNC_ITEMS


def test_the_published_schema_describes_every_command_a_device_may_queue(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    items = schema["components"]["schemas"]["SyncRequest"]["properties"]["items"]["items"]
    assert set(items["discriminator"]["mapping"]) == set(COMMAND_TYPES)
    hold = schema["components"]["schemas"]["HoldPerson"]
    assert {"idempotency_key", "occurred_at", "device_id", "person_id", "body"} <= set(
        hold["required"]
    )
