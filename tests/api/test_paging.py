"""Every list pages one way: ``cursor`` + ``limit`` in, ``items`` + ``next_cursor`` out.

One world with enough of everything for several pages of each list; each list is walked
page by page with the same client code and must give exactly the items of one big page,
each once, in the same order. The OpenAPI document must say so for every list: no GET
answers a bare array, and every list's cursor parameter declares its format.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import PREFIX, SETUP_ACTOR, Api, assert_problem

DAY = datetime(2025, 6, 1, 8, tzinfo=UTC)
PAGE = 2


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, Any]:
    """Three sites; registrations on three days; separated households; transfers in transit
    and unaccounted for; holds; reads of personal data on the access trail."""
    registry = api.registry
    reception, camp, other = (api.open_site(kind=k) for k in ("reception", "camp", "camp"))
    people = [
        api.person(reception, occurred_at=DAY + timedelta(days=n % 3), household_id=f"PG-H{n}")
        for n in range(7)
    ]
    # A member of each of three households goes ahead to the camp: three families apart.
    families = [api.person(reception, household_id=f"PG-H{n}") for n in range(3)]
    ahead = registry.plan_transfer(
        origin=reception, destination=camp, manifest=families, actor=SETUP_ACTOR
    ).result["transfer_id"]
    registry.dispatch_transfer(transfer_id=ahead, actor=SETUP_ACTOR)
    registry.receive_transfer(
        transfer_id=ahead, site_code=camp, persons=families, actor=SETUP_ACTOR
    )
    for _ in range(3):
        api.dispatched_transfer(reception, other)
    lost = api.dispatched_transfer(reception, camp, count=3)
    registry.reconcile_transfer(transfer_id=lost, actor=SETUP_ACTOR)
    for person in people[:3]:
        registry.hold_person(person_id=person, reason="interview", actor=SETUP_ACTOR)
    api.wait()
    for person in people[:3]:
        api.client.get(f"{PREFIX}/persons/{person}", headers=api.auth("admin"))
    return {"reception": reception, "camp": camp, "other": other, "people": people}


def lists(world: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every list the API publishes, with the query that gives each one several pages."""
    reception = world["reception"]
    days = {"start": DAY.date().isoformat(), "end": (DAY + timedelta(days=3)).date().isoformat()}
    return [
        ("/sites", {}),
        ("/sites/occupancy", {}),
        ("/sites/flows", days),
        (f"/sites/{reception}/flows", days),
        (f"/sites/{reception}/roster", {}),
        (f"/sites/{reception}/roster", {"as_of": datetime.now(UTC).isoformat()}),
        ("/households/separated", {}),
        ("/duplicates", {"site_code": reception}),
        ("/transfers/in-transit", {}),
        ("/transfers/unaccounted", {}),
        ("/holds", {}),
        ("/audit/log", {}),
        ("/audit/access-trail", {}),
    ]


def page_through(api: Api, path: str, query: dict[str, Any]) -> tuple[list[Any], int]:
    """Every item of a list, one page of PAGE at a time, and how many pages it took."""
    items: list[Any] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {**query, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = api.client.get(PREFIX + path, params=params, headers=api.auth("admin"))
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        assert set(body) == {"items", "next_cursor"}, path
        assert len(body["items"]) <= PAGE
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert len(body["items"]) == PAGE, f"{path}: a short page before the last"


@pytest.mark.parametrize("index", range(13))
def test_each_list_pages_through_every_item_exactly_once(
    api: Api, world: dict[str, Any], index: int
) -> None:
    path, query = lists(world)[index]
    walked, pages = page_through(api, path, query)
    whole = api.client.get(
        PREFIX + path, params={**query, "limit": 1000}, headers=api.auth("admin")
    ).json()
    assert whole["next_cursor"] is None
    assert pages >= 2, f"{path}: the world gives it one page only; the test proves nothing"
    if path == "/audit/access-trail":
        # Reading the trail is no access to personal data, but walking the roster is: the
        # whole page is read last, so it holds the walk's items and nothing before them.
        whole["items"] = whole["items"][: len(walked)]
    assert walked == whole["items"], path


def test_every_list_in_the_document_takes_a_declared_cursor(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    listed = set()
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        ok = operation["responses"]["200"].get("content", {}).get("application/json", {})
        schema = resolve(document, ok.get("schema", {}))
        assert schema.get("type") != "array", f"{path} answers a bare array, not a page"
        if "next_cursor" not in schema.get("properties", {}):
            continue
        listed.add(path.removeprefix(PREFIX))
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        cursor = parameters["cursor"]["schema"]
        cursor = next((s for s in cursor.get("anyOf", [cursor]) if "pattern" in s), cursor)
        assert cursor.get("pattern"), f"{path}: the cursor's format is not declared"
        assert "limit" in parameters, path
    expected = {path for path, _ in lists({"reception": "{code}"})}
    assert expected <= listed, f"lists without a page: {expected - listed}"


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: Any = document
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return resolve(document, found)


def test_a_cursor_is_refused_by_another_list_and_when_malformed(
    api: Api, world: dict[str, Any]
) -> None:
    admin = api.auth("admin")
    sites = api.client.get(f"{PREFIX}/sites", params={"limit": 1}, headers=admin).json()
    elsewhere = api.client.get(
        f"{PREFIX}/transfers/in-transit", params={"cursor": sites["next_cursor"]}, headers=admin
    )
    assert_problem(elsewhere, 400, "bad-query")
    # The as-of roster's cursor was a bare person id; it is no cursor now.
    as_of = api.client.get(
        f"{PREFIX}/sites/{world['reception']}/roster",
        params={"as_of": datetime.now(UTC).isoformat(), "cursor": str(UUID(int=1))},
        headers=admin,
    )
    assert_problem(as_of, 400, "bad-query")
    outside = api.client.get(f"{PREFIX}/sites", params={"cursor": "a+b/c="}, headers=admin)
    assert_problem(outside, 422, "invalid-request")


def test_the_roster_still_takes_its_cursor_as_after(api: Api, world: dict[str, Any]) -> None:
    path = f"{PREFIX}/sites/{world['reception']}/roster"
    admin = api.auth("admin")
    first = api.client.get(path, params={"limit": PAGE}, headers=admin).json()
    by_cursor = api.client.get(
        path, params={"limit": PAGE, "cursor": first["next_cursor"]}, headers=admin
    )
    by_after = api.client.get(
        path, params={"limit": PAGE, "after": first["next_cursor"]}, headers=admin
    )
    assert by_after.json() == by_cursor.json()
