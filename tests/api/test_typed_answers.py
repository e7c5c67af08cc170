"""Every JSON answer is typed in the OpenAPI document, and typing it lost nothing.

A generated client builds a class for each answer's schema: an object without properties
or an array without items gives it a bare dict, and the partner's code reads keys by
guesswork. Each read answers through its response model, which FastAPI validates and
filters; so each is compared here, field for field and value for value, with what the
read model gives (as the routes wrote it before they were typed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
import pytest

from campledger.api.services.audit_read import audit_log_page
from campledger.api.services.import_runner import import_arrivals
from campledger.domain.history import person_history
from campledger.projections import flows, holds, households, occupancy, roster, transfers
from tests.api.conftest import PREFIX, SETUP_ACTOR, Api


def untyped(document: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    """The places under ``schema`` that are an object with no properties (nor a schema for
    its values), or an array with no items."""
    components = document["components"]["schemas"]
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    found: list[str] = []
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += untyped(document, branch, where)
    kind = schema.get("type")
    if kind == "object":
        values = schema.get("additionalProperties")
        if not schema.get("properties") and not isinstance(values, dict):
            found.append(where or "(the answer)")
        for name, child in schema.get("properties", {}).items():
            found += untyped(document, child, f"{where}.{name}")
        if isinstance(values, dict) and values:
            found += untyped(document, values, f"{where}.*")
    elif kind == "array":
        items = schema.get("items")
        if not items:
            found.append(f"{where}[]")
        else:
            found += untyped(document, items, f"{where}[]")
    return found


def test_every_json_answer_is_typed_in_the_document(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    bare = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if status.startswith("2") and content is not None:
                    found = untyped(document, content.get("schema", {}), "")
                    if not content.get("schema") or found:
                        bare[f"{method.upper()} {path} {status}"] = found
    assert bare == {}


def test_the_document_check_finds_an_untyped_answer() -> None:
    document: dict[str, Any] = {"components": {"schemas": {"Page": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "object"}}},
    }}}}  # fmt: skip
    assert untyped(document, {"$ref": "#/components/schemas/Page"}, "") == [".items[]"]
    assert untyped(document, {"type": "array"}, "") == ["[]"]


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, Any]:
    """Two sites, people in one household on both, a transfer on the road, one reconciled
    with someone missing, a held person with a review date."""
    registry = api.registry
    reception, camp = api.open_site(kind="reception"), api.open_site(kind="camp")
    household = f"TA-H{api.unique()}"
    people = [api.person(reception, household_id=household) for _ in range(3)]
    ahead = registry.plan_transfer(
        origin=reception, destination=camp, manifest=people[:1], actor=SETUP_ACTOR
    ).result["transfer_id"]
    registry.dispatch_transfer(transfer_id=ahead, actor=SETUP_ACTOR)
    registry.receive_transfer(
        transfer_id=ahead, site_code=camp, persons=people[:1], actor=SETUP_ACTOR
    )
    on_road = api.dispatched_transfer(reception, camp, count=2)
    lost = api.dispatched_transfer(reception, camp, count=2)
    registry.reconcile_transfer(transfer_id=lost, actor=SETUP_ACTOR)
    review = (datetime.now(UTC) + timedelta(days=7)).date()
    registry.hold_person(
        person_id=people[1], reason="interview", authority="Governor",
        order_reference="ORD-7", review_date=review, actor=SETUP_ACTOR,
    )  # fmt: skip
    api.wait()
    return {
        "reception": reception, "camp": camp, "household": household, "people": people,
        "on_road": on_road,
    }  # fmt: skip


def as_json(value: Any) -> Any:
    """What the routes wrote before they were typed (orjson and FastAPI's encoder alike)."""
    return orjson.loads(orjson.dumps(value))


def answered(api: Api, path: str, **params: Any) -> Any:
    response = api.client.get(PREFIX + path, params=params, headers=api.auth("admin"))
    assert response.status_code == 200, (path, response.text)
    return response.json()


def reads(api: Api, world: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """Each read, its query, and what its read model gives for it."""
    conn, reception = api.conn, world["reception"]
    person: UUID = world["people"][1]
    today = datetime.now(UTC).date()
    days = {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()}
    page = {"limit": 1000}
    return [
        ("/sites", page, occupancy.sites_page(conn, limit=1000)),
        ("/sites/occupancy", page, occupancy.occupancy_page(conn, limit=1000)),
        (
            "/sites/flows",
            {**days, **page},
            flows.flows_page(conn, None, today - timedelta(days=1), today, limit=1000),
        ),
        (f"/sites/{reception}", {}, occupancy.get_site(conn, reception)),
        (f"/sites/{reception}/occupancy", {}, occupancy.site_occupancy(conn, reception)),
        (
            f"/sites/{reception}/roster",
            page,
            roster.roster_page(conn, reception, limit=1000, include_personal=True),
        ),
        (f"/persons/{person}", {}, roster.get_person_row(conn, person, include_personal=True)),
        (f"/transfers/{world['on_road']}", {}, transfers.get_transfer(conn, world["on_road"])),
        ("/transfers/in-transit", page, transfers.transfers_in_transit(conn, limit=1000)),
        ("/transfers/unaccounted", page, transfers.unaccounted_persons(conn, limit=1000)),
        ("/holds", page, holds.holds_page(conn, limit=1000, include_personal=True)),
        ("/households/separated", page, households.separated_households(conn, limit=1000)),
        (
            f"/households/{world['household']}",
            {},
            households.household(conn, world["household"]),
        ),
        (
            f"/audit/persons/{person}/history",
            {},
            person_history(api.registry, person).as_dict(),
        ),
        ("/audit/log", page, audit_log_page(api.backend.database_url, {}, None, 1000)),
    ]


@pytest.mark.parametrize("index", range(15))
def test_a_typed_answer_is_what_the_read_model_gives(
    api: Api, world: dict[str, Any], index: int
) -> None:
    path, query, read = reads(api, world)[index]
    before = as_json(
        {"items": read.rows, "next_cursor": read.next_cursor} if hasattr(read, "rows") else read
    )
    assert answered(api, path, **query) == before


def test_a_reader_without_personal_data_gets_the_personal_fields_left_out(
    api: Api, world: dict[str, Any]
) -> None:
    """Left out, not null: the model's optional fields are not filled in."""
    person = world["people"][0]
    response = api.client.get(f"{PREFIX}/persons/{person}", headers=api.auth("transfer_officer"))
    assert response.status_code == 200, response.text
    assert response.json() == as_json(roster.get_person_row(api.conn, person))
    assert "given_name" not in response.json()


def test_an_as_of_roster_answers_ids_and_status_only(api: Api, world: dict[str, Any]) -> None:
    found = answered(
        api, f"/sites/{world['reception']}/roster", as_of=datetime.now(UTC).isoformat()
    )
    assert found["items"]
    assert all(set(item) == {"person_id", "status"} for item in found["items"])


def test_an_imports_report_is_typed_and_whole(api: Api, world: dict[str, Any]) -> None:
    """The report's every field, bad rows skipped included, as the import runner gives it."""
    site = world["camp"]
    header = "registration_number,given_name,family_name,sex,nationality,estimated_age\n"
    good = f"{api.fresh_code('R')},Zahra,Idriss,female,SDN,41\n"
    bad = f"{api.fresh_code('R')},Moussa,Idriss,male,SDN,not-a-number\n"
    content = (header + good + bad).encode()
    response = api.client.post(
        f"{PREFIX}/sites/{site}/imports",
        content=content,
        params={"dry_run": "true", "skip_bad_rows": "true"},
        headers={**api.auth("admin"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    report = import_arrivals(
        api.registry, content, site_code=site, actor=SETUP_ACTOR, dry_run=True,
        skip_bad_rows=True,
    ).as_dict()  # fmt: skip
    answered = response.json()
    assert answered.pop("seconds") >= 0
    del report["seconds"]
    assert answered == as_json(report)
    assert [(p["line"], p["column"]) for p in answered["problems"]] == [(3, "estimated_age")]
