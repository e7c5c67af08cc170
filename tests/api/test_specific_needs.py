"""The API takes UNHCR's specific-needs codes, refuses unknown ones clearly, filters by them."""

from __future__ import annotations

from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem


def test_an_arrival_records_standard_codes_and_the_first_versions_codes_as_their_match(
    api: Api,
) -> None:
    site = api.open_site()
    body = {
        "site_code": site,
        **arrival_json(api.fresh_code("R"), specific_needs=["sm-mn", "wounded"]),
    }
    response = api.client.post(
        f"{PREFIX}/arrivals", json=body, headers={**api.auth("registrar"), "Idempotency-Key": "n1"}
    )
    assert response.status_code == 201, response.text
    api.wait()
    read = api.client.get(
        f"{PREFIX}/persons/{response.json()['person_id']}", headers=api.auth("registrar")
    )
    assert read.status_code == 200, read.text
    assert read.json()["specific_needs"] == ["SM-MN", "SM-OT"]


def test_an_unknown_code_is_refused_with_the_codes_to_use_and_nothing_written(api: Api) -> None:
    site = api.open_site()
    before = api.writes()
    body = {"site_code": site, **arrival_json(api.fresh_code("R"), specific_needs=["hungry"])}
    response = api.client.post(
        f"{PREFIX}/arrivals", json=body, headers={**api.auth("registrar"), "Idempotency-Key": "n2"}
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert "unknown specific need code" in problem["detail"] and "SM-MN" in problem["detail"]
    assert api.writes() == before


def test_the_roster_filters_by_category_or_sub_code_and_refuses_an_unknown_code(
    api: Api,
) -> None:
    site = api.open_site()
    [malnourished] = api.register(site, specific_needs=("SM-MN",))
    api.register(site, specific_needs=("UM",))
    api.wait()
    auth = api.auth("site_manager")

    def filtered(code: str) -> list[str]:
        response = api.client.get(
            f"{PREFIX}/sites/{site}/roster", params={"specific_need": code}, headers=auth
        )
        assert response.status_code == 200, response.text
        return [row["person_id"] for row in response.json()["items"]]

    assert filtered("SM") == filtered("SM-MN") == [str(malnourished)]
    assert filtered("SM-CI") == []
    unknown = api.client.get(
        f"{PREFIX}/sites/{site}/roster", params={"specific_need": "hungry"}, headers=auth
    )
    assert_problem(unknown, 422, "invalid-input")
