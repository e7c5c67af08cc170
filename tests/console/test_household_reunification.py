"""Bringing a separated household together from the console: each member free to travel
and away from the family's home site is offered a transfer there, to an account that may
plan one from that member's site; the link opens the plan form filled in (registration
numbers only, never a name), and the form, once sent, is checked as any other."""

from __future__ import annotations

import html
import re
from uuid import UUID

import httpx
import pytest

from campledger.domain.model.values import PersonStatus
from tests.api.conftest import SETUP_ACTOR
from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in
from tests.console.test_transfer_forms import error_at, numbers_of, planned_id

world = test_people_pages.world

PLAN_LINK = re.compile(r'href="(/transfers/new\?[^"]+)"')


def household(world: World, **members_at: int) -> tuple[str, dict[str, list[UUID]]]:
    """A household with that many members registered at each site (by code)."""
    household_id = f"HH-{world.api.unique()}"
    people = {
        site: world.api.register(site, count, household_id=household_id, relationship="child")
        for site, count in members_at.items()
    }
    world.api.wait()
    return household_id, people


def plan_links(page: str) -> list[str]:
    return [html.unescape(link) for link in PLAN_LINK.findall(page)]


def row_of(page: str, person: UUID) -> str:
    return page.split(f'href="/persons/{person}"')[1].split("</tr>")[0]


def send_as_drawn(browser: Browser, **added: str) -> httpx.Response:
    """Send the plan form shown as a browser would, with what the officer adds."""
    assert browser.page is not None
    form = browser.page.text.split('<form method="post" action="/transfers/new"')[1]
    form = form.split("</form>")[0]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    [destination] = re.findall(r'<option value="([^"]*)" selected>', form)
    numbers = re.search(r'<textarea id="numbers"[^>]*>([^<]*)</textarea>', form)
    assert numbers is not None
    fields |= {"destination": destination, "numbers": html.unescape(numbers.group(1))}
    return browser.post("/transfers/new", {**fields, **added})


def test_a_member_away_from_home_is_planned_home_from_the_prefilled_form(world: World) -> None:
    camp, hospital = world.api.open_site(kind="camp"), world.api.open_site(kind="hospital")
    household_id, people = household(world, **{camp: 2, hospital: 1})
    [patient] = people[hospital]
    [number] = numbers_of(world, [patient])
    # The transfer officer of both sites: a reunification is a transfer they plan.
    browser, _ = signed_in(world, "transfer_officer", [camp, hospital])

    listing = browser.get("/households", params={"site": hospital}).text
    link = f"/transfers/new?origin={hospital}&destination={camp}&numbers={number}"
    assert plan_links(listing) == [link]
    assert f"Reunify at {camp}" in row_of(listing, patient)
    for at_home in people[camp]:
        assert "Reunify" not in row_of(listing, at_home)
    # The household's own page offers the same.
    assert plan_links(browser.get(f"/households/{household_id}").text) == [link]
    # Registration numbers only: the link names nobody.
    assert "Haroun" not in link and "Amina" not in link

    form = browser.get(link).text
    assert f'<option value="{camp}" selected>' in form
    assert f">{number}</textarea>" in form
    transfer = planned_id(send_as_drawn(browser, vehicle="Ambulance 3", order_reference="MOV-7"))
    planned = world.api.registry.get_transfer(transfer)
    assert (planned.origin, planned.destination) == (hospital, camp)
    assert world.api.manifest(transfer) == [patient]

    # The same link followed again is only a prefill: the domain refuses the second plan.
    head = world.api.head()
    browser.get(link)
    refused = send_as_drawn(browser, vehicle="Ambulance 3")
    assert refused.status_code == 400 and world.api.head() == head
    assert number in error_at(refused.text, "numbers")


@pytest.mark.parametrize("role", ["auditor", "site_manager"])
def test_a_role_that_may_not_plan_transfers_is_offered_no_reunification(
    world: World, role: str
) -> None:
    camp, hospital = world.api.open_site(kind="camp"), world.api.open_site(kind="hospital")
    household_id, people = household(world, **{camp: 2, hospital: 1})
    browser, _ = signed_in(world, role)
    for page in (
        browser.get("/households", params={"site": hospital}).text,
        browser.get(f"/households/{household_id}").text,
    ):
        assert str(people[hospital][0]) in page  # the member is shown, where they are
        assert plan_links(page) == [] and "Reunify at" not in page
        assert "Reunification" not in page


def test_a_member_at_a_site_outside_the_readers_is_offered_nothing(world: World) -> None:
    camp, hospital = world.api.open_site(kind="camp"), world.api.open_site(kind="hospital")
    elsewhere = world.api.open_site()
    household_id, people = household(world, **{camp: 2, hospital: 1, elsewhere: 1})
    [patient], [outside] = people[hospital], people[elsewhere]
    [number] = numbers_of(world, [patient])
    # An administrator held to two sites traces families, so sees the third member too.
    browser, _ = signed_in(world, "admin", [camp, hospital])
    page = browser.get(f"/households/{household_id}").text
    assert str(outside) in page
    assert "Reunify" not in row_of(page, outside)
    assert plan_links(page) == [
        f"/transfers/new?origin={hospital}&destination={camp}&numbers={number}"
    ]


def test_a_held_member_is_not_offered_a_transfer_home(world: World) -> None:
    camp, holding = world.api.open_site(kind="camp"), world.api.open_site(kind="holding")
    household_id, people = household(world, **{camp: 2, holding: 3})
    *held, released = people[holding]
    for person in people[holding]:
        world.api.registry.hold_person(person_id=person, reason="interview", actor=SETUP_ACTOR)
    world.api.registry.release_person(person_id=released, reason="cleared", actor=SETUP_ACTOR)
    world.api.wait()
    browser, _ = signed_in(world, "admin")
    page = browser.get(f"/households/{household_id}").text
    # The held members do not make the holding facility the family's home, and they wait;
    # the one released there is offered the way home.
    for person in held:
        assert world.api.registry.get_person(person).status == PersonStatus.HELD
        assert "Reunify" not in row_of(page, person)
        assert "Held: joins the family once released" in row_of(page, person)
    [number] = numbers_of(world, [released])
    assert plan_links(page) == [
        f"/transfers/new?origin={holding}&destination={camp}&numbers={number}"
    ]


def test_a_prefilled_number_not_on_the_roster_is_refused_when_sent(world: World) -> None:
    origin, camp = world.api.open_site(), world.api.open_site(kind="camp")
    world.api.register(origin)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [origin])
    form = browser.get(
        "/transfers/new", params={"origin": origin, "destination": camp, "numbers": "NOPE-4711"}
    ).text
    assert ">NOPE-4711</textarea>" in form
    head = world.api.head()
    refused = send_as_drawn(browser)
    assert refused.status_code == 400 and world.api.head() == head
    assert f"NOPE-4711 is not on the roster of {origin}." in error_at(refused.text, "numbers")
    # What was prefilled is kept, to correct.
    assert ">NOPE-4711</textarea>" in refused.text
    assert f'<option value="{camp}" selected>' in refused.text


def test_a_prefill_longer_than_a_field_or_for_a_role_that_may_not_plan_is_refused(
    world: World,
) -> None:
    origin, camp = world.api.open_site(), world.api.open_site(kind="camp")
    officer, _ = signed_in(world, "transfer_officer", [origin])
    too_long = officer.get(
        "/transfers/new", params={"origin": origin, "destination": camp, "numbers": "R" * 2001}
    )
    assert too_long.status_code == 400 and "<textarea" not in too_long.text
    manager, _ = signed_in(world, "site_manager", [origin])
    link = {"origin": origin, "destination": camp, "numbers": "R-1"}
    assert manager.get("/transfers/new", params=link).status_code == 403
