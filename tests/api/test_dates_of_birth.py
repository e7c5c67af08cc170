"""A date of birth over HTTP: a full date, or the year alone ("1985"), as the document
declares; anything else refused with nothing written."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = api.client.get("/openapi.json").json()
    return found


def _register(api: Api, site: str, born: Any) -> Any:
    body = {"site_code": site, **arrival_json(f"Y-{api.unique()}", date_of_birth=born)}
    del body["estimated_age"]
    return api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("admin"))


def test_the_document_declares_a_full_date_or_a_year(document: dict[str, Any]) -> None:
    field = document["components"]["schemas"]["ArrivalCreate"]["properties"]["date_of_birth"]
    assert field["anyOf"] == [
        {"type": "string", "format": "date"},
        {"type": "string", "pattern": "^[0-9]{4}$"},
        {"type": "null"},
    ]
    assert "year alone" in field["description"] and "1 July" in field["description"]


def test_a_year_alone_is_registered_as_a_year(api: Api) -> None:
    site = api.open_site()
    response = _register(api, site, "1985")
    assert response.status_code == 201, response.text
    person = api.registry.get_person(UUID(response.json()["person_id"]))
    assert (person.date_of_birth.isoformat(), person.date_of_birth_precision) == (
        "1985-01-01",
        "year",
    )


@pytest.mark.parametrize("born", ["85", "1985-6-30", "30/06/1985", "1985-02-30", "0000", 1985])
def test_any_other_date_of_birth_is_refused_and_nothing_written(api: Api, born: Any) -> None:
    site = api.open_site()
    before = api.writes()
    assert_problem(_register(api, site, born), 422, "invalid-request")
    assert api.writes() == before


def test_a_year_in_the_future_is_refused(api: Api) -> None:
    site = api.open_site()
    before = api.writes()
    response = _register(api, site, "2999")
    assert response.status_code == 422, response.text
    assert api.writes() == before
