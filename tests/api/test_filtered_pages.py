"""A filtered list fills its pages: the filter is part of the query, applied before the
page's LIMIT, so a page is short only when it is the last.

Separated households once came back short: the site filter (and a scoped reader's sites)
were applied to a page already cut. Here households that match the filter alternate, in
page order, with households that do not, so a filter applied after the cut would give
pages of one.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PREFIX, SETUP_ACTOR, Api

PAGE = 2
MATCHING = 5


@pytest.fixture(scope="module")
def sites(api: Api) -> dict[str, str]:
    """Households split between sites A and B, alternating (in household-id order) with
    households split between C and D."""
    found = {name: api.open_site(kind="camp") for name in "ABCD"}
    run = api.unique()
    for n in range(2 * MATCHING):
        pair = "AB" if n % 2 == 0 else "CD"
        household = f"FP{run}-{n:02d}"
        for site in pair:
            api.person(found[site], household_id=household)
    api.wait()
    return found


def walk(api: Api, auth: dict[str, str], **query: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        params = {**query, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = api.client.get(f"{PREFIX}/households/separated", params=params, headers=auth)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages


def assert_full(pages: list[list[dict[str, Any]]], expected: int) -> None:
    assert [len(page) for page in pages[:-1]] == [PAGE] * (len(pages) - 1)
    assert sum(len(page) for page in pages) == expected


def test_a_site_filter_gives_full_pages(api: Api, sites: dict[str, str]) -> None:
    pages = walk(api, api.auth("admin"), site_code=sites["A"])
    assert_full(pages, MATCHING)
    assert all(sites["A"] in household["sites"] for page in pages for household in page)


def test_a_scoped_readers_pages_are_full(api: Api, sites: dict[str, str]) -> None:
    # A transfer officer may not trace families: it sees its own sites only, in full pages.
    pages = walk(api, api.auth("transfer_officer", sites=[sites["A"]]))
    assert_full(pages, MATCHING)
    assert {s for page in pages for household in page for s in household["sites"]} == {sites["A"]}


def test_a_roster_filtered_by_status_gives_full_pages(api: Api) -> None:
    """Held and present people alternate in registration-number order."""
    site = api.open_site()
    people = api.register(site, 2 * MATCHING)
    for person in people[::2]:
        api.registry.hold_person(person_id=person, reason="interview", actor=SETUP_ACTOR)
    api.wait()
    pages, cursor = [], None
    while True:
        params = {"status": "held", "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = api.client.get(
            f"{PREFIX}/sites/{site}/roster", params=params, headers=api.auth("admin")
        )
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert_full(pages, MATCHING)
    assert {item["status"] for page in pages for item in page} == {"held"}


def test_the_holds_register_of_one_site_gives_full_pages(api: Api) -> None:
    """Holds at two sites alternate in the register's order (longest held first)."""
    here, there = api.open_site(), api.open_site()
    for n in range(2 * MATCHING):
        api.held_person(here if n % 2 == 0 else there)
    api.wait()
    pages, cursor = [], None
    while True:
        params = {"site": here, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = api.client.get(f"{PREFIX}/holds", params=params, headers=api.auth("admin"))
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert_full(pages, MATCHING)
    assert {item["site_code"] for page in pages for item in page} == {here}
