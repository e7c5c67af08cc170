"""The holds register in the console: who may open it, the site scope, each name shown
on the access trail, Arabic. (Every role that may read holds may read personal data
today: the register's nameless form is the API's, read through the same service.)"""

from __future__ import annotations

import pytest

from tests.console import test_people_pages
from tests.console.test_people_pages import World, signed_in

# The same fixture: the API with its projector and the console, on one database.
world = test_people_pages.world


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("screener", True), ("site_manager", True), ("registrar", False), ("transfer_officer", False)],
)
def test_the_register_is_for_roles_that_may_read_holds(
    world: World, role: str, allowed: bool
) -> None:
    browser, _ = signed_in(world, role)
    assert ('href="/holds"' in browser.get("/").text) is allowed
    assert browser.get("/holds").status_code == (200 if allowed else 403)


def test_a_scoped_manager_sees_its_holds_with_names_and_each_name_is_on_the_trail(
    world: World,
) -> None:
    home = world.api.open_site()
    elsewhere = world.api.open_site()
    held = world.api.held_person(home)
    other = world.api.held_person(elsewhere)
    world.api.wait()
    browser, name = signed_in(world, "site_manager", [home])

    page = browser.get("/holds").text
    assert f"/persons/{held}" in page and f"/persons/{other}" not in page
    assert "Haroun" in page
    assert world.trail(held) == [(name, "console /holds")]
    assert world.trail(other) == []
    assert browser.get("/holds", params={"site": elsewhere}).status_code == 403


def test_the_register_in_arabic(world: World) -> None:
    code = world.api.open_site()
    world.api.held_person(code)
    world.api.wait()
    browser, _ = signed_in(world, "site_manager", [code], locale="ar")
    page = browser.get("/holds").text
    assert 'dir="rtl"' in page and "سجل الاحتجاز" in page
