"""Opening, changing and closing a site from the console: each form sends its command
through the catalogue, as the signed-in account; refusals are shown next to their field,
in the reader's language, and write nothing; a form sent twice writes once."""

from __future__ import annotations

import re

import pytest

from campledger.projections.audit_log import AuditLog
from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in

# The same fixture: the API with its projector and the console, on one database.
world = test_people_pages.world

FORM_KEY = re.compile(r'name="form_key" value="([0-9a-f]{32})"')


def form_keys(browser: Browser) -> list[str]:
    assert browser.page is not None
    return FORM_KEY.findall(browser.page.text)


def opening(code: str, **overrides: str) -> dict[str, str]:
    fields = {"code": code, "name": f"Camp {code}", "kind": "camp", "capacity": "500"}
    return {**fields, **overrides}


def open_from_form(browser: Browser, data: dict[str, str]) -> tuple[int, str]:
    browser.get("/sites/new")
    [key] = form_keys(browser)
    response = browser.submit("/sites/new", {**data, "form_key": key})
    return response.status_code, response.text


def actors(world: World, code: str) -> list[tuple[str, str]]:
    rows = world.api.conn.execute(
        f"SELECT action, actor FROM {AuditLog.live_schema()}.entries WHERE site_code = %s "
        "AND subject_type = 'site' ORDER BY position",
        (code,),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def test_a_site_manager_opens_a_site_and_the_event_names_them(world: World) -> None:
    browser, name = signed_in(world, "site_manager")
    assert 'href="/sites/new"' in browser.get("/sites").text
    code = world.api.fresh_code("NEW")
    form = browser.get("/sites/new").text
    # The fields' limits and keyboards are attributes the browser reads, not text.
    assert 'maxlength="64" dir="ltr" autocomplete="off"' in form
    assert 'aria-describedby="capacity-hint" min="0" inputmode="numeric"' in form
    [key] = form_keys(browser)
    response = browser.submit("/sites/new", {**opening(code), "form_key": key})
    assert response.status_code == 303
    assert response.headers["location"] == f"/sites/{code}/manage?done=site-opened"
    page = browser.get(response.headers["location"]).text
    assert "The site is open." in page and f"Camp {code}" in page
    # The read models already show it: the answer waited for them.
    assert f'href="/sites/{code}/roster"' in browser.get("/sites").text
    world.api.wait()
    assert actors(world, code) == [("site.opened", name)]


def test_the_same_form_sent_twice_writes_once(world: World) -> None:
    browser, _ = signed_in(world, "site_manager")
    code = world.api.fresh_code("TWICE")
    browser.get("/sites/new")
    [key] = form_keys(browser)
    token = browser.csrf()
    first = browser.post("/sites/new", {**opening(code), "form_key": key, "csrf_token": token})
    head = world.api.head()
    again = browser.post("/sites/new", {**opening(code), "form_key": key, "csrf_token": token})
    assert first.status_code == again.status_code == 303
    assert world.api.head() == head
    # Sent again with other values, the form says so and writes nothing.
    other = browser.post(
        "/sites/new", {**opening(code, capacity="9"), "form_key": key, "csrf_token": token}
    )
    assert other.status_code == 400 and "already sent with other values" in other.text
    assert world.api.head() == head


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": ""}, "code", "Fill in this field."),
        ({"name": " "}, "name", "Fill in this field."),
        ({"capacity": "many"}, "capacity", "Enter a whole number."),
        ({"latitude": "north"}, "latitude", "Enter a number, with a point for decimals."),
        ({"latitude": "100"}, "latitude", "latitude must be between -90 and 90"),
        ({"capacity": "-1"}, "capacity", "capacity must be between 0 and"),
        ({"code": "A B"}, "code", "site code may hold letters, digits"),
        ({"kind": "palace"}, "kind", "sitekind must be one of"),
        ({"admin1_pcode": "S-1"}, "admin1_pcode", "A p-code starts with its country's ISO code"),
        (
            {"admin1_pcode": "TD09", "admin2_pcode": "TD1001"},
            "admin2_pcode",
            "An admin2 p-code starts with its admin1 p-code",
        ),
    ],
)
def test_a_refused_site_shows_why_next_to_the_field_and_writes_nothing(
    world: World, data: dict[str, str], field: str, message: str
) -> None:
    browser, _ = signed_in(world, "site_manager")
    head = world.api.head()
    status, page = open_from_form(browser, {**opening(world.api.fresh_code("BAD")), **data})
    assert status == 400
    assert world.api.head() == head
    at_field = page.split(f'id="{field}-error">')[1].split("</span>")[0]
    assert message in at_field
    # The summary leads to the field, and names it by its label.
    link = page.split(f'<a href="#{field}">')[1].split("</a>")[0]
    label = page.split(f'<label for="{field}">')[1].split("</label>")[0]
    assert link.startswith(f"{label}: ") and message in link, link
    assert "Traceback" not in page and "{" not in at_field


def test_a_site_code_already_taken_is_refused_in_the_readers_language(world: World) -> None:
    code = world.api.open_site()
    browser, _ = signed_in(world, "site_manager", locale="ar")
    head = world.api.head()
    status, page = open_from_form(browser, opening(code))
    assert status == 400 and world.api.head() == head
    assert 'dir="rtl"' in page
    at_field = page.split('id="code-error">')[1].split("</span>")[0]
    assert "يوجد موقع بهذا الرمز" in at_field
    # What was typed is kept, so that only the mistake needs typing again.
    assert f'value="Camp {code}"' in page


def test_without_the_permission_or_the_csrf_token_nothing_is_written(world: World) -> None:
    registrar, _ = signed_in(world, "registrar")
    assert 'href="/sites/new"' not in registrar.get("/sites").text
    assert registrar.get("/sites/new").status_code == 403
    head = world.api.head()
    token = registrar.csrf() if "csrf_token" in registrar.page.text else ""  # type: ignore[union-attr]
    refused = registrar.post(
        "/sites/new", {**opening("NOPE-1"), "form_key": "0" * 32, "csrf_token": token}
    )
    assert refused.status_code == 403
    manager, _ = signed_in(world, "site_manager")
    no_token = manager.post("/sites/new", {**opening("NOPE-2"), "form_key": "0" * 32})
    assert no_token.status_code in (403, 419)
    manager.get("/sites/new")
    bad_key = manager.submit("/sites/new", {**opening("NOPE-3"), "form_key": "not-a-key"})
    assert bad_key.status_code == 400
    assert world.api.head() == head


def test_a_scoped_manager_manages_only_its_sites(world: World) -> None:
    home, elsewhere = world.api.open_site(), world.api.open_site()
    browser, _ = signed_in(world, "site_manager", [home])
    assert browser.get(f"/sites/{elsewhere}/manage").status_code == 403
    browser.get(f"/sites/{home}/manage")
    capacity_key, _ = form_keys(browser)
    head = world.api.head()
    response = browser.submit(
        f"/sites/{elsewhere}/capacity", {"capacity": "5", "form_key": capacity_key}
    )
    assert response.status_code == 403 and world.api.head() == head


def test_the_capacity_changes_and_the_site_closes_once_confirmed(world: World) -> None:
    code = world.api.open_site()
    browser, name = signed_in(world, "site_manager", [code])
    browser.get(f"/sites/{code}/manage")
    capacity_key, close_key = form_keys(browser)
    changed = browser.submit(
        f"/sites/{code}/capacity",
        {"capacity": "750", "reason": "new tents", "form_key": capacity_key},
    )
    assert changed.status_code == 303
    page = browser.get(changed.headers["location"]).text
    assert "The capacity has been changed." in page and "750" in page

    head = world.api.head()
    unconfirmed = browser.submit(
        f"/sites/{code}/close", {"reason": "flooded", "form_key": close_key}
    )
    assert unconfirmed.status_code == 400 and world.api.head() == head
    assert "Tick the box to confirm" in unconfirmed.text.split('id="confirm-error">')[1]
    [_, close_key] = form_keys(browser)
    closed = browser.submit(
        f"/sites/{code}/close", {"reason": "flooded", "confirm": "yes", "form_key": close_key}
    )
    assert closed.status_code == 303
    page = browser.get(closed.headers["location"]).text
    assert "The site is closed" in page
    assert 'action="/sites/' not in page  # nothing more to change on a closed site
    world.api.wait()
    assert actors(world, code)[1:] == [("site.capacity_changed", name), ("site.closed", name)]
