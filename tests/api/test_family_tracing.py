"""A household id is no key to another site's family.

Joining a household whose members are at sites outside one's scope is family tracing:
refused to a registrar, allowed to a site manager who asks for it explicitly, and
recorded on the correction under its actor. Household reads show members at other sites
only counted to readers who may not trace families.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from campledger.domain.model.person import Person
from tests.api.conftest import PREFIX, Api, api, api_database_url, assert_problem
from tests.field.test_sync import Queue, statuses, sync

__all__ = ["api", "api_database_url"]  # fixtures


def _family_elsewhere(api: Api) -> tuple[str, str, str, list[UUID], UUID]:
    """Site A with a newcomer; site B with a two-member household (ids, numbers)."""
    home, away = api.open_site(), api.open_site()
    household = api.fresh_code("HH")
    family = api.register(away, 2, household_id=household)
    newcomer = api.person(home)
    api.wait()
    return home, away, household, family, newcomer


def _join(
    api: Api, person: UUID, household: str, role: str, sites: list[str], **extra: Any
) -> httpx.Response:
    body = {"field": "household_id", "value": household, "reason": "ration card", **extra}
    return api.client.post(
        f"{PREFIX}/persons/{person}/corrections", json=body, headers=api.auth(role, sites)
    )


def test_a_registrar_cannot_join_someone_to_a_household_at_another_site(api: Api) -> None:
    home, _, household, _, newcomer = _family_elsewhere(api)
    before = api.writes()

    refused = _join(api, newcomer, household, "registrar", [home])
    padded = _join(api, newcomer, f" {household} ", "registrar", [home])
    asking = _join(api, newcomer, household, "registrar", [home], family_tracing=True)

    problem = assert_problem(refused, 403, "household-outside-scope")
    assert "family_tracing" in problem["detail"]
    assert_problem(padded, 403, "household-outside-scope")
    assert_problem(asking, 403, "forbidden")  # the registrar role may not trace families
    assert api.writes() == before
    assert api.registry.get_person(newcomer).household_id is None


def test_a_site_manager_joins_a_household_elsewhere_only_by_saying_so(api: Api) -> None:
    home, _, household, _, newcomer = _family_elsewhere(api)

    # Even a role that may do both must say which it means: a typo or a guess is not
    # family tracing. A site manager corrects nothing else at all.
    assert_problem(_join(api, newcomer, household, "admin", [home]), 403, "household-outside-scope")
    assert_problem(_join(api, newcomer, household, "site_manager", [home]), 403, "forbidden")
    other_field = api.client.post(
        f"{PREFIX}/persons/{newcomer}/corrections",
        json={"field": "estimated_age", "value": 31, "reason": "x", "family_tracing": True},
        headers=api.auth("site_manager", [home]),
    )
    assert_problem(other_field, 422, "invalid-input")  # tracing sets households, nothing else
    traced = _join(api, newcomer, household, "site_manager", [home], family_tracing=True)

    assert traced.status_code == 200, traced.text
    *_, corrected = api.registry.events.get(newcomer)
    assert isinstance(corrected, Person.DetailCorrected)
    assert corrected.family_tracing is True and corrected.new_value == household
    assert corrected.actor.startswith("site_manager-")
    api.wait()
    log = api.client.get(
        f"{PREFIX}/audit/log", params={"subject_id": str(newcomer)}, headers=api.auth("admin")
    )
    assert "field=household_id family_tracing" in log.text


def test_households_within_scope_are_joined_as_before(api: Api) -> None:
    home = api.open_site()
    household = api.fresh_code("HH")
    api.register(home, 2, household_id=household)
    newcomer = api.person(home)
    api.wait()
    assert _join(api, newcomer, household, "registrar", [home]).status_code == 200
    unscoped = api.person(api.open_site())
    assert _join(api, unscoped, household, "registrar", []).status_code == 200


def test_sync_refuses_the_join_as_the_endpoint_does(api: Api) -> None:
    home, _, household, _, newcomer = _family_elsewhere(api)
    queue = Queue(api)
    queue.clock = 0.5
    queue.add(
        "correct_detail",
        {"field": "household_id", "value": household, "reason": "ration card"},
        person_id=newcomer,
    )
    before = api.writes()

    response = sync(api, queue.items, role="registrar", sites=[home])

    assert statuses(response) == ["rejected"], response.text
    alone = _join(api, newcomer, household, "registrar", [home])
    assert response.json()["results"][0]["problem"] == alone.json()
    assert api.writes() == before


def test_a_reader_who_may_not_trace_sees_members_elsewhere_only_counted(api: Api) -> None:
    home, away = api.open_site(), api.open_site()
    household = api.fresh_code("HH")
    (here,) = api.register(home, 1, household_id=household)
    elsewhere = api.register(away, 2, household_id=household)
    api.wait()
    numbers = [api.registry.get_person(p).registration_number for p in elsewhere]
    path = f"{PREFIX}/households/{household}"

    scoped = api.client.get(path, headers=api.auth("auditor", [home]))
    tracer = api.client.get(path, headers=api.auth("site_manager", [home]))
    separated = api.client.get(
        f"{PREFIX}/households/separated", headers=api.auth("auditor", [home])
    )

    assert scoped.status_code == 200, scoped.text
    body = scoped.json()
    assert [m["person_id"] for m in body["members"]] == [str(here)]
    assert body["members_outside_scope"] == 2 and body["sites"] == [home]
    assert body["member_count"] == 3 and body["separated"] is True
    for hidden in [*map(str, elsewhere), *numbers, away]:
        assert hidden not in scoped.text and hidden not in separated.text
    assert [r["sites"] for r in separated.json()["items"] if r["household_id"] == household] == [
        [home]
    ]
    assert {m["person_id"] for m in tracer.json()["members"]} == {
        str(p) for p in [here, *elsewhere]
    }
