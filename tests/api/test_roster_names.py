"""Names in two forms through the API: recorded, corrected, searched, sorted and exported."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from campledger.api.services.auth import PERMISSIONS, Permission, Role
from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem


def _register(api: Api, site: str, **names: Any) -> str:
    body = {"site_code": site, **arrival_json(api.fresh_code("R"), **names)}
    response = api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("registrar"))
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


def _roster(api: Api, site: str, **params: Any) -> list[dict[str, Any]]:
    response = api.client.get(
        f"{PREFIX}/sites/{site}/roster", params=params, headers=api.auth("site_manager")
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_an_arrival_with_its_name_in_arabic_and_latin_is_found_by_either(api: Api) -> None:
    site = api.open_site()
    osman = _register(
        api,
        site,
        given_name="محمد",
        family_name="عثمان",
        given_name_latin="Mohamed",
        family_name_latin="Osman",
    )
    _register(api, site, given_name="فاطمة", family_name="آدم")
    api.wait()

    assert _roster(api, site, name="--") == []  # nothing to search by: nobody, not everyone
    for search in ("Muhammad Othman", "محمد", "osman"):
        found = _roster(api, site, name=search)
        assert [r["person_id"] for r in found] == [osman], search
    [row] = _roster(api, site, name="Mohamed")
    assert (row["given_name"], row["given_name_latin"]) == ("محمد", "Mohamed")
    assert "name_keys" not in row and "name_order_en" not in row


def test_a_latin_form_in_another_script_is_refused_and_nothing_is_written(api: Api) -> None:
    site = api.open_site()
    before = api.writes()
    body = {"site_code": site, **arrival_json(api.fresh_code("R"), given_name_latin="محمد")}

    response = api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("registrar"))

    problem = assert_problem(response, 422, "invalid-input")
    assert "Latin letters" in problem["detail"] and "محمد" not in response.text
    assert api.writes() == before


def test_the_latin_form_can_be_corrected(api: Api) -> None:
    site = api.open_site()
    person = _register(api, site, given_name="فاطمة")
    response = api.client.post(
        f"{PREFIX}/persons/{person}/corrections",
        json={"field": "given_name_latin", "value": "Fatuma", "reason": "ID card"},
        headers=api.auth("registrar"),
    )
    assert response.status_code == 200, response.text
    api.wait()

    [row] = _roster(api, site, name="Fatuma")
    assert row["person_id"] == person and row["given_name_latin"] == "Fatuma"


@pytest.mark.parametrize(("lang", "first"), [("en", "Abakar"), ("ar", "آدم")])
def test_a_roster_sorted_by_name_follows_the_readers_language(
    api: Api, lang: str, first: str
) -> None:
    site = api.open_site()
    _register(api, site, given_name="Hawa", family_name="Abakar")
    _register(api, site, given_name="فاطمة", family_name="آدم")
    _register(api, site, given_name="Zara", family_name="Yousif")
    api.wait()

    rows = _roster(api, site, sort="name", lang=lang)

    assert rows[0]["family_name"] == first
    assert len(rows) == 3


def test_the_roster_csv_carries_both_forms_of_the_name(api: Api) -> None:
    site = api.open_site()
    _register(api, site, given_name="محمد", given_name_latin="Mohamed")
    api.wait()

    response = api.client.get(
        f"{PREFIX}/sites/{site}/roster",
        params={"format": "csv"},
        headers=api.auth("site_manager"),
    )

    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["given_name"], row["given_name_latin"], row["family_name_latin"]) == (
        "محمد",
        "Mohamed",
        "",
    )


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"name": "Amina", "as_of": "2025-01-01T00:00:00Z"}, "as_of"),
        ({"sort": "name", "as_of": "2025-01-01T00:00:00Z"}, "as_of"),
        ({"sex": "female", "as_of": "2025-01-01T00:00:00Z"}, "as_of"),
    ],
)
def test_a_name_query_it_cannot_answer_is_a_bad_query(
    api: Api, params: dict[str, str], reason: str
) -> None:
    site = api.open_site()
    api.wait()
    response = api.client.get(
        f"{PREFIX}/sites/{site}/roster", params=params, headers=api.auth("site_manager")
    )
    problem = assert_problem(response, 400, "bad-query")
    assert reason in problem["detail"]


@pytest.mark.parametrize("params", [{"name": "Amina"}, {"sort": "name"}])
def test_a_role_that_may_not_read_names_may_not_search_or_sort_by_them(
    api: Api, monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    # No published role reads rosters without names today; a deployment's role that did
    # must not learn names by searching or sorting.
    site = api.open_site()
    api.wait()
    without_names = PERMISSIONS[Role.SITE_MANAGER] - {Permission.PERSONAL_DATA}
    monkeypatch.setitem(PERMISSIONS, Role.SITE_MANAGER, without_names)

    response = api.client.get(
        f"{PREFIX}/sites/{site}/roster", params=params, headers=api.auth("site_manager")
    )

    assert_problem(response, 403, "forbidden")
    assert _roster(api, site) == []  # the roster itself is still readable, without names


def test_a_csv_import_takes_the_latin_form_and_names_the_line_of_a_bad_one(api: Api) -> None:
    site = api.open_site()
    api.wait()
    header = "registration_number,given_name,family_name,sex,nationality,estimated_age,"
    header += "given_name_latin,family_name_latin\n"
    good = f"{api.fresh_code('R')},محمد,عثمان,male,SDN,30,Mohamed,Osman\n"
    bad = f"{api.fresh_code('R')},فاطمة,آدم,female,SDN,25,فاطمة,Adam\n"
    before = api.writes()

    def post(content: str, **params: str) -> Any:
        return api.client.post(
            f"{PREFIX}/sites/{site}/imports",
            content=content.encode(),
            params=params,
            headers={**api.auth("registrar"), "Content-Type": "text/csv"},
        )

    refused = assert_problem(post(header + good + bad), 422, "import-rejected")
    assert [(r["line"], r["column"]) for r in refused["rows"]] == [(3, "given_name_latin")]
    assert "فاطمة" not in str(refused)
    assert api.writes() == before

    assert post(header + good).status_code == 201
    api.wait()
    [row] = _roster(api, site, name="Muhammad")
    assert (row["given_name_latin"], row["family_name_latin"]) == ("Mohamed", "Osman")
