"""The OpenAPI document states the rules the server enforces, and the server keeps them.

tests/security/test_fuzz.py checks this broadly (every schemathesis check on generated
requests); these tests pin the rules found missing one by one, each through the app.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from campledger.api.http.openapi import _request_components
from campledger.domain.model.registration_numbers import registration_number_pattern
from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = api.client.get("/openapi.json").json()
    return found


def parameter(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    operation = document["paths"][PREFIX + path][method]
    (found,) = [p for p in operation["parameters"] if p["name"] == name]
    schema: dict[str, Any] = found["schema"]
    return schema


def test_a_405_allows_every_method_the_document_lists_for_the_path(api: Api) -> None:
    for path, methods in (("/sites", {"GET", "POST"}), ("/sync", {"POST"})):
        refused = api.client.put(PREFIX + path, headers=api.auth("admin"))
        assert refused.status_code == 405
        allowed = {m.strip() for m in refused.headers["Allow"].split(",")}
        assert allowed - {"HEAD"} == methods, path


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/audit/log", "recorded_to"),
        ("/audit/log", "occurred_from"),
        ("/audit/access-trail", "to"),
        ("/sites/{code}/roster", "as_of"),
    ],
)
def test_date_time_parameters_take_only_rfc_3339_date_times(
    api: Api, document: dict[str, Any], path: str, name: str
) -> None:
    assert parameter(document, path, "get", name).get("format") == "date-time"
    code = api.open_site()
    api.wait()
    url = PREFIX + path.replace("{code}", code)
    for not_a_date in ("0.5", "1700000000", "2025-06-01T09:00:00"):
        refused = api.client.get(url, params={name: not_a_date}, headers=api.auth("admin"))
        assert_problem(refused, 422, "invalid-request")
    taken = api.client.get(url, params={name: "2025-06-01T09:00:00Z"}, headers=api.auth("admin"))
    assert taken.status_code == 200, taken.text


def test_if_match_states_its_format_and_is_never_null(api: Api, document: dict[str, Any]) -> None:
    declared = parameter(document, "/persons/{person_id}/hold", "post", "If-Match")
    assert declared.get("type") == "string" and declared.get("pattern")
    person = api.person(api.open_site())
    for bad in ("null", "", "x7", '"9999999999999999999999999"'):
        refused = api.client.post(
            f"{PREFIX}/persons/{person}/hold",
            json={"reason": "interview", "authority": "police", "order_reference": "O-1"},
            headers={**api.auth("admin"), "If-Match": bad},
        )
        assert_problem(refused, 400, "bad-if-match")


def test_request_text_declares_what_can_be_stored_and_answers_are_left_alone(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["SiteCreate"]["properties"]["kind"]["enum"]
    assert "\\u0000" in schemas["ArrivalCreate"]["properties"]["family_name"]["pattern"]
    # A sync answer echoes the key it was sent, refused or not: no rule on it.
    key = schemas["ItemResult"]["properties"]["idempotency_key"]["anyOf"][0]
    assert "pattern" not in key


def test_a_replay_is_documented_on_the_status_the_command_answers(
    document: dict[str, Any],
) -> None:
    """A replay answers what the first request answered: its own status, flagged."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
                continue
            success = [s for s in ("200", "201") if s in operation["responses"]]
            assert len(success) == 1, f"{method.upper()} {path}: {success}"
            headers = operation["responses"][success[0]].get("headers", {})
            assert "Idempotent-Replayed" in headers, f"{method.upper()} {path}"


def test_a_capacity_is_a_number_not_true(api: Api) -> None:
    code = api.open_site()
    for not_a_number in (True, False):
        refused = api.client.post(
            f"{PREFIX}/sites/{code}/capacity",
            json={"capacity": not_a_number},
            headers=api.auth("admin"),
        )
        assert_problem(refused, 422, "invalid-request")


def test_roster_filters_state_their_vocabulary(document: dict[str, Any]) -> None:
    assert "60+" in parameter(document, "/sites/{code}/roster", "get", "age_band")["enum"]
    assert "held" in parameter(document, "/sites/{code}/roster", "get", "status")["enum"]


def test_an_arrival_states_it_needs_a_date_of_birth_or_an_estimated_age(
    api: Api, document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    for name in ("ArrivalCreate", "SingleArrivalCreate"):
        alternatives = schemas[name]["anyOf"]
        assert sorted(a["required"][0] for a in alternatives) == ["date_of_birth", "estimated_age"]
    # What the document says is what the server does: neither is refused, and nothing written.
    site = api.open_site()
    before = api.head()
    body = {
        "site_code": site, "registration_number": f"R-{api.unique()}", "given_name": "Amna",
        "sex": "female", "nationality": "SDN",
    }  # fmt: skip
    refused = api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("admin"))
    assert refused.status_code == 422 and api.head() == before
    body["estimated_age"] = 30
    assert (
        api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("admin")).status_code
        == 201
    )


def test_code_lists_are_stated_as_the_server_takes_them_in_any_case(
    document: dict[str, Any],
) -> None:
    arrival = document["components"]["schemas"]["ArrivalCreate"]["properties"]
    nationality = re.compile(arrival["nationality"]["pattern"])
    assert all(nationality.match(code) for code in ("SDN", "sdn", "Tcd", "XXA"))
    assert not any(nationality.match(code) for code in ("ZZQ", "", "SD"))
    need = re.compile(arrival["specific_needs"]["items"]["pattern"])
    assert all(need.match(code) for code in ("SM-MN", "sm-mn", "CR", " UM ", "wounded"))
    assert not any(need.match(code) for code in ("hungry", "", "SM-"))
    roster_filter = parameter(document, "/sites/{code}/roster", "get", "specific_need")
    assert roster_filter["pattern"] == need.pattern
    assert "\\-" not in need.pattern  # JavaScript's unicode mode refuses "\-" outside a class


def test_a_coordinate_is_a_number_not_false(api: Api) -> None:
    before = api.head()
    for field in ("latitude", "longitude"):
        body = {"code": f"GEO-{api.unique()}", "name": "Site", "kind": "camp", "capacity": 10}
        refused = api.client.post(
            f"{PREFIX}/sites", json={**body, field: False}, headers=api.auth("admin")
        )
        assert_problem(refused, 422, "invalid-request")
    assert api.head() == before
    body = {"code": f"GEO-{api.unique()}", "name": "Site", "kind": "camp", "capacity": 10}
    placed = {**body, "latitude": 13, "longitude": 20.5}
    assert (
        api.client.post(f"{PREFIX}/sites", json=placed, headers=api.auth("admin")).status_code
        == 201
    )


def _repeated(response: Any, *names: str) -> None:
    problem = assert_problem(response, 422, "invalid-request")
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [
        (["query", name], "repeated_parameter") for name in names
    ], problem


def test_a_query_parameter_taking_one_value_is_refused_when_given_twice(
    api: Api, document: dict[str, Any]
) -> None:
    code = api.open_site()
    api.wait()
    roster = f"{PREFIX}/sites/{code}/roster"
    # FastAPI alone would read the last one (a non-number here) and take it.
    refused = api.client.get(
        roster + "?wait_for=1&wait_for=x&wait_for=y", headers=api.auth("admin")
    )
    _repeated(refused, "wait_for")
    # Each repeated parameter is named, from the route and its dependencies (the page size,
    # the wait) alike, and from a model of query parameters (the audit log's).
    _repeated(
        api.client.get(roster + "?limit=5&limit=5&status=present", headers=api.auth("admin")),
        "limit",
    )
    _repeated(
        api.client.get(f"{PREFIX}/audit/log?actor=a&actor=b", headers=api.auth("admin")),
        "actor",
    )
    assert api.client.get(roster + "?limit=5", headers=api.auth("admin")).status_code == 200
    assert (
        "more than once"
        in document["paths"][PREFIX + "/sites/{code}/roster"]["get"]["responses"]["422"][
            "description"
        ]
    )


def test_an_import_with_dry_run_given_twice_is_refused_and_writes_nothing(api: Api) -> None:
    code = api.open_site()
    header = "registration_number,given_name,sex,nationality,estimated_age\n"
    content = (header + f"R-{api.unique()},Amna,female,SDN,30\n").encode()
    before = api.writes()
    refused = api.client.post(
        f"{PREFIX}/sites/{code}/imports?dry_run=true&dry_run=false",
        content=content,
        headers={**api.auth("admin"), "Content-Type": "text/csv"},
    )
    _repeated(refused, "dry_run")
    assert api.writes() == before


def test_a_batch_refused_for_numbers_already_registered_is_a_documented_conflict(
    api: Api, document: dict[str, Any]
) -> None:
    responses = document["paths"][PREFIX + "/arrivals/batch"]["post"]["responses"]
    assert "batch-conflict" in responses["409"]["description"]
    assert "batch-rejected" in responses["422"]["description"]
    code = api.open_site()
    taken = f"R-{api.unique()}"
    api.person(code, registration_number=taken)
    before = api.writes()

    def batch(*numbers: str) -> Any:
        body = {"site_code": code, "arrivals": [arrival_json(n) for n in numbers]}
        return api.client.post(f"{PREFIX}/arrivals/batch", json=body, headers=api.auth("admin"))

    # Well formed, as the schema says, but taken: a conflict, as the arrival alone would be.
    assert_problem(batch(f"R-{api.unique()}", taken), 409, "batch-conflict")
    # A batch that contradicts itself can never go through: the request is at fault.
    twice = f"R-{api.unique()}"
    assert_problem(batch(twice, twice), 422, "batch-rejected")
    assert api.writes() == before


def test_a_registration_number_states_the_characters_the_server_takes(
    api: Api, document: dict[str, Any]
) -> None:
    # Wherever a request carries one: arrivals alone, in batches, in a device's sync queue.
    # (Answers carry the number as it was stored, whatever rule took it then.)
    requests = _request_components(document)
    stated = {
        name: schema["properties"]["registration_number"]
        for name, schema in document["components"]["schemas"].items()
        if "registration_number" in schema.get("properties", {}) and name in requests
    }
    assert {"ArrivalCreate", "SingleArrivalCreate"} <= set(stated)
    for name, field in stated.items():
        assert field["pattern"] == registration_number_pattern(), name
        assert "one script" in field["description"] and field["maxLength"] == 64
    pattern = re.compile(registration_number_pattern())
    site = api.open_site()
    before = api.writes()

    def register(number: str) -> Any:
        body = {"site_code": site, **arrival_json(number)}
        return api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("admin"))

    for refused in ("ADR-\u0410BC", "R-\ufb01", "ADR 12", "R-\u00bd"):
        assert not pattern.fullmatch(refused)
        assert_problem(register(refused), 422, "invalid-registration-number")
    assert api.writes() == before
    for taken in (f"\uff21\uff24\uff32\uff0d{api.unique()}", f"حلب-{api.unique()}"):
        assert pattern.fullmatch(taken)
        assert register(taken).status_code == 201


def test_a_nul_in_a_query_parameter_is_refused_even_where_no_query_would_meet_it(
    api: Api,
) -> None:
    # A name search turns the name into sound keys before any query: a NUL there never
    # reached PostgreSQL, which refuses it everywhere else, and was dropped unseen.
    code = api.open_site()
    api.wait()
    for params in ({"name": "Am\x00na"}, {"nationality": "SD\x00N"}):
        refused = api.client.get(
            f"{PREFIX}/sites/{code}/roster", params=params, headers=api.auth("admin")
        )
        problem = assert_problem(refused, 422, "unstorable-value")
        assert [e["loc"] for e in problem["errors"]] == [["query", *params]]
    refused = api.client.get(f"{PREFIX}/sites/a%00b/roster", headers=api.auth("admin"))
    problem = assert_problem(refused, 422, "unstorable-value")
    assert [e["loc"] for e in problem["errors"]] == [["path", "code"]]


def test_dates_and_times_in_bodies_and_queries_are_text_as_the_document_says(
    api: Api, document: dict[str, Any]
) -> None:
    # pydantic alone reads a number as seconds since 1970: -1e-172 was a site's opening
    # time, and "86400" the 2nd of January 1970 in a query.
    schemas = document["components"]["schemas"]
    assert schemas["SiteCreate"]["properties"]["occurred_at"]["anyOf"][0] == {
        "type": "string", "format": "date-time",
    }  # fmt: skip
    assert schemas["ArrivalCreate"]["properties"]["date_of_birth"]["anyOf"][0] == {
        "type": "string", "format": "date",
    }  # fmt: skip
    site = api.open_site()
    before = api.writes()
    opened = {"code": f"T-{api.unique()}", "name": "Site", "kind": "camp", "capacity": 10}
    arrival = {"site_code": site, **arrival_json(f"R-{api.unique()}")}
    for url, body in (
        (f"{PREFIX}/sites", {**opened, "occurred_at": -1.25e-172}),
        (f"{PREFIX}/sites", {**opened, "occurred_at": 1700000000}),
        (f"{PREFIX}/arrivals", {**arrival, "date_of_birth": 86400}),
        (f"{PREFIX}/arrivals", {**arrival, "occurred_at": "1700000000"}),
    ):
        refused = api.client.post(url, json=body, headers=api.auth("admin"))
        assert_problem(refused, 422, "invalid-request")
    assert api.writes() == before
    for start in ("86400", "0", "2025-6-1"):
        refused = api.client.get(
            f"{PREFIX}/sites/flows",
            params={"start": start, "end": "2025-06-30"},
            headers=api.auth("admin"),
        )
        assert_problem(refused, 422, "invalid-request")
    taken = api.client.get(
        f"{PREFIX}/sites/flows",
        params={"start": "2025-06-01", "end": "2025-06-30"},
        headers=api.auth("admin"),
    )
    assert taken.status_code == 200, taken.text
