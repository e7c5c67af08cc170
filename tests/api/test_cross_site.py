"""What a site-scoped token learns of other sites: nothing that names their people.

An id or a registration number at a site outside a token's scope is a key to a person
(and a family) that token has no business with: errors, lists and commands give it none.
"""

from __future__ import annotations

from typing import Any

from tests.api.conftest import PREFIX, Api, api, api_database_url, arrival_json, assert_problem

__all__ = ["api", "api_database_url"]  # fixtures


def _register(api: Api, site: str, number: str, role: str, sites: list[str]) -> Any:
    return api.client.post(
        f"{PREFIX}/arrivals",
        json={"site_code": site, **arrival_json(number)},
        headers=api.auth(role, sites),
    )


def test_a_taken_registration_number_names_its_holder_only_to_callers_covering_its_site(
    api: Api,
) -> None:
    home, away = api.open_site(), api.open_site()
    number = api.fresh_code("R")
    holder = api.person(away, registration_number=number)
    before = api.writes()

    elsewhere = assert_problem(
        _register(api, home, number, "registrar", [home]), 409, "duplicate-registration-number"
    )
    assert "existing_person" not in elsewhere
    assert str(holder) not in str(elsewhere)

    same_site = assert_problem(
        _register(api, away, number, "registrar", [away]), 409, "duplicate-registration-number"
    )
    unscoped = assert_problem(
        _register(api, home, number, "registrar", []), 409, "duplicate-registration-number"
    )
    assert same_site["existing_person"] == unscoped["existing_person"] == str(holder)
    assert api.writes() == before


def test_a_taken_number_in_a_batch_names_its_holder_only_within_scope(api: Api) -> None:
    home, away = api.open_site(), api.open_site()
    here, there = api.fresh_code("R"), api.fresh_code("R")
    mine = api.person(home, registration_number=here)
    api.person(away, registration_number=there)
    response = api.client.post(
        f"{PREFIX}/arrivals/batch",
        json={"site_code": home, "arrivals": [arrival_json(here), arrival_json(there)]},
        headers=api.auth("registrar", [home]),
    )
    items = assert_problem(response, 409, "batch-conflict")["items"]
    assert [i.get("existing_person") for i in items] == [str(mine), None]


def test_a_scoped_reviewer_lists_only_pairs_whose_two_records_it_covers(api: Api) -> None:
    home, away = api.open_site(), api.open_site()
    first, second = api.register(home, 2)  # same name, sex and age: likely duplicates
    (other,) = api.register(away, 1)
    api.wait()
    other_number = api.registry.get_person(other).registration_number

    def listed(sites: list[str], **params: Any) -> list[dict[str, Any]]:
        response = api.client.get(
            f"{PREFIX}/duplicates", params=params, headers=api.auth("site_manager", sites)
        )
        assert response.status_code == 200, response.text
        if sites == [home]:
            assert other_number not in response.text and str(other) not in response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def pairs(items: list[dict[str, Any]]) -> set[frozenset[str]]:
        return {frozenset((i["person_id"], i["other_id"])) for i in items}

    scoped = listed([home])
    assert pairs(scoped) == {frozenset((str(first), str(second)))}
    assert all({i["person_site_code"], i["other_site_code"]} == {home} for i in scoped)
    assert pairs(listed([home], site_code=home)) == pairs(scoped)
    # A coordinator covering both sites sees the pairs that straddle them.
    both = pairs(listed([home, away]))
    assert frozenset((str(first), str(other))) in both
    assert frozenset((str(first), str(other))) in pairs(listed([], site_code=home))


def test_only_the_origin_may_cancel_a_transfer(api: Api) -> None:
    origin, destination = api.open_site(), api.open_site(kind="camp")
    transfer = api.planned_transfer(origin, destination)
    path = f"{PREFIX}/transfers/{transfer}/cancel"
    before = api.writes()

    refused = api.client.post(
        path, json={"reason": "no room"}, headers=api.auth("transfer_officer", [destination])
    )

    assert_problem(refused, 403, "out-of-scope")
    assert api.writes() == before
    done = api.client.post(
        path, json={"reason": "road closed"}, headers=api.auth("transfer_officer", [origin])
    )
    assert done.status_code == 200, done.text


def test_a_scoped_manager_sending_a_merge_again_gets_the_first_answer(api: Api) -> None:
    # The merged-away record belongs where the kept one is: a retry meets the same scope
    # and is answered as the first send was, writing nothing.
    home, away = api.open_site(), api.open_site()
    survivor, duplicate = api.register(home, 2)
    headers = {**api.auth("site_manager", [home]), "Idempotency-Key": api.fresh_code("merge")}
    body = {"survivor_id": str(survivor), "reason": "same fingerprints"}
    path = f"{PREFIX}/persons/{duplicate}/merge"
    first = api.client.post(path, json=body, headers=headers)
    assert first.status_code == 200, first.text
    before = api.writes()
    again = api.client.post(path, json=body, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["position"] == first.json()["position"]
    assert api.writes() == before
    # Another site's manager still meets the kept record's scope, and is refused.
    elsewhere = {**api.auth("site_manager", [away]), "Idempotency-Key": api.fresh_code("m")}
    assert_problem(api.client.post(path, json=body, headers=elsewhere), 403, "out-of-scope")
