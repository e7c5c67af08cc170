"""Choosing who travels from a selection of the origin's roster: the held only, the men of
fighting age, one household; "Tick everyone listed" ticks the page shown; a refused plan
comes back with the same list and the same ticks; a filter value outside its list is
dropped rather than trusted."""

from __future__ import annotations

import re
from uuid import UUID

from tests.api.conftest import SETUP_ACTOR
from tests.console import test_people_pages
from tests.console.test_people_pages import World, signed_in
from tests.console.test_site_forms import form_keys
from tests.console.test_transfer_forms import error_at, send

world = test_people_pages.world

TICKBOX = re.compile(
    r'<input type="checkbox" name="person" value="([0-9a-f-]{36})"[^>]*?( checked)?>'
)


def listed(page: str) -> dict[UUID, bool]:
    """Each person the form lists to tick, and whether the box is ticked."""
    return {UUID(person): bool(ticked) for person, ticked in TICKBOX.findall(page)}


def site_with_a_mixed_household(world: World) -> tuple[str, str, dict[str, UUID]]:
    """A site with a family (a man, his wife, their boy) and a held neighbour."""
    site = world.api.open_site()
    household = f"HH-{world.api.unique()}"
    people = {
        "man": world.api.person(site, sex="male", estimated_age=34, household_id=household),
        "wife": world.api.person(site, sex="female", estimated_age=29, household_id=household),
        "boy": world.api.person(site, sex="male", estimated_age=9, household_id=household),
        "neighbour": world.api.person(site, sex="male", estimated_age=40),
    }
    world.api.registry.hold_person(person_id=people["neighbour"], reason="interview",
                                   actor=SETUP_ACTOR)  # fmt: skip
    world.api.wait()
    return site, household, people


def test_the_roster_to_tick_is_narrowed_by_status_sex_age_and_household(world: World) -> None:
    site, household, people = site_with_a_mixed_household(world)
    browser, _ = signed_in(world, "transfer_officer", [site])

    def shown(**selection: str) -> set[UUID]:
        page = browser.get("/transfers/new", params={"origin": site, **selection})
        assert page.status_code == 200
        return set(listed(page.text))

    assert shown() == set(people.values())
    assert shown(status="held") == {people["neighbour"]}
    assert shown(sex="male", age_band="18-59") == {people["man"], people["neighbour"]}
    assert shown(household_id=household) == {people["man"], people["wife"], people["boy"]}
    assert shown(status="held", sex="female") == set()
    assert browser.page is not None and "Nobody here matches." in browser.page.text
    # A value outside a filter's list is dropped, not passed on: everyone is listed.
    assert shown(status="departed", sex="x", age_band="7-8") == set(people.values())


def test_tick_everyone_listed_ticks_the_page_shown_and_only_it(world: World) -> None:
    site, _, people = site_with_a_mixed_household(world)
    browser, _ = signed_in(world, "transfer_officer", [site])
    page = browser.get("/transfers/new", params={"origin": site, "sex": "male"}).text
    assert not any(listed(page).values())
    [link] = re.findall(r'href="/transfers/new\?([^"]*tick=listed[^"]*)"', page)
    ticked = listed(browser.get("/transfers/new?" + link.replace("&amp;", "&")).text)
    assert ticked == {people["man"]: True, people["boy"]: True, people["neighbour"]: True}


def test_a_refused_plan_comes_back_with_the_same_list_and_ticks(world: World) -> None:
    site, _, people = site_with_a_mixed_household(world)
    browser, _ = signed_in(world, "transfer_officer", [site])
    browser.get("/transfers/new", params={"origin": site, "sex": "male", "age_band": "18-59"})
    [key] = form_keys(browser)
    head = world.api.head()
    refused = send(browser, "/transfers/new", {
        "origin": site, "destination": "", "form_key": key, "sex": "male",
        "age_band": "18-59", "person": [str(people["man"])],
    })  # fmt: skip
    assert refused.status_code == 400 and world.api.head() == head
    assert error_at(refused.text, "destination")
    assert listed(refused.text) == {people["man"]: True, people["neighbour"]: False}
