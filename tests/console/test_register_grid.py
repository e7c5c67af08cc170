"""Registering a truckload from the console's grid: one batch through the catalogue as the
signed-in account, all of it or none; each refused row shown on its row, next to its
field; sent twice, written once; 500 rows accepted, 501 refused with a clear word."""

from __future__ import annotations

import re
from typing import Any

import pytest

from campledger.projections.audit_log import AuditLog
from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in

world = test_people_pages.world

FORM_KEY = re.compile(r'name="form_key" value="([0-9a-f]{32})"')


def person(number: str, **overrides: str) -> dict[str, str]:
    values = {
        "household_id": "HH-TEST",
        "relationship": "focal_point",
        "given_name": "Amina",
        "family_name": "Haroun",
        "sex": "female",
        "estimated_age": "30",
        "nationality": "SDN",
        "registration_number": number,
    }
    return {**values, **overrides}


def grid(*people: dict[str, str]) -> dict[str, str]:
    return {f"r{i}-{column}": value for i, p in enumerate(people) for column, value in p.items()}


def save(browser: Browser, site: str, *people: dict[str, str], key: str | None = None) -> Any:
    page = browser.get(f"/register?site={site}")
    assert page.status_code == 200, page.text
    if key is None:
        [key] = FORM_KEY.findall(page.text)
    return browser.submit("/register", {"site": site, "form_key": key, **grid(*people)})


def field_error(page: str, name: str) -> str:
    found = re.search(f'id="{name}-error"[^>]*>(.*?)</span>', page, re.S)
    assert found, f"no error span for {name}"
    return found.group(1)


def actors(world: World, site: str) -> list[str]:
    rows = world.api.conn.execute(
        f"SELECT actor FROM {AuditLog.live_schema()}.entries WHERE site_code = %s "
        "AND action = 'person.registered'",
        (site,),
    ).fetchall()
    return [row[0] for row in rows]


def test_a_household_entered_in_the_grid_is_registered_under_the_registrars_name(
    world: World,
) -> None:
    site = world.api.open_site()
    browser, name = signed_in(world, "registrar")
    page = browser.get("/").text
    assert 'href="/register"' in page  # in the menu
    household = [
        person(world.api.fresh_code("R")),
        person(world.api.fresh_code("R"), relationship="child", given_name="Idris",
               sex="male", estimated_age="", date_of_birth="2018-04-02"),
    ]  # fmt: skip
    response = save(browser, site, *household)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(f"/register/saved?site={site}&batch=")
    done = browser.get(response.headers["location"])
    assert done.status_code == 200 and "2 people registered." in done.text
    world.api.wait()
    assert actors(world, site) == [name, name]


def test_a_bad_row_is_refused_on_its_row_and_nothing_is_written(world: World) -> None:
    site = world.api.open_site()
    browser, _ = signed_in(world, "registrar")
    head = world.api.head()
    response = save(
        browser, site,
        person(world.api.fresh_code("R")),
        person(world.api.fresh_code("R"), estimated_age="", date_of_birth="2999-01-01"),
        person(world.api.fresh_code("R"), nationality="XYZ"),
    )  # fmt: skip
    assert response.status_code == 400
    assert world.api.head() == head
    page = response.text
    assert "This age is not possible." in field_error(page, "r1-date_of_birth")
    assert "Use a three-letter country code" in field_error(page, "r2-nationality")
    assert field_error(page, "r0-nationality") == ""
    assert 'href="#r1-date_of_birth"' in page  # the summary leads to the field
    # What was typed comes back, so that only the mistakes need typing again.
    assert 'value="2999-01-01"' in page and 'value="XYZ"' in page


def test_text_that_is_not_a_date_or_a_number_is_refused_on_its_field(world: World) -> None:
    site = world.api.open_site()
    browser, _ = signed_in(world, "registrar")
    head = world.api.head()
    response = save(
        browser, site,
        person(world.api.fresh_code("R"), estimated_age="thirty"),
        person(world.api.fresh_code("R"), estimated_age="", date_of_birth="2 March 2015"),
    )  # fmt: skip
    assert response.status_code == 400 and world.api.head() == head
    assert "Enter a whole number." in field_error(response.text, "r0-estimated_age")
    assert "year-month-day" in field_error(response.text, "r1-date_of_birth")


def test_an_exact_duplicate_is_refused_on_its_row(world: World) -> None:
    site = world.api.open_site()
    [taken] = world.api.register(site)
    number = world.api.registry.get_person(taken).registration_number
    world.api.wait()
    browser, _ = signed_in(world, "registrar")
    head = world.api.head()
    response = save(browser, site, person(world.api.fresh_code("R")), person(number))
    assert response.status_code == 400 and world.api.head() == head
    assert "This registration number is already recorded." in field_error(
        response.text, "r1-registration_number"
    )
    # The same number twice in one truckload is refused on its second row.
    again = world.api.fresh_code("R")
    twice = save(browser, site, person(again), person(again))
    assert twice.status_code == 400 and world.api.head() == head
    assert "another row" in field_error(twice.text, "r1-registration_number")


def test_the_live_check_of_a_row_uses_the_domains_rules(world: World) -> None:
    site = world.api.open_site()
    [taken] = world.api.register(site)
    number = world.api.registry.get_person(taken).registration_number
    browser, _ = signed_in(world, "registrar")
    browser.get(f"/register?site={site}")
    token = browser.csrf()
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}

    def check(**values: str) -> str:
        sent = {f"r4-{k}": v for k, v in person(world.api.fresh_code("R"), **values).items()}
        response = browser.client.post("/register/check?row=4", data=sent, headers=headers)
        assert response.status_code == 200
        return response.text

    bad_code = check(nationality="ZZ9")
    assert "Use a three-letter country code" in field_error(bad_code, "r4-nationality")
    assert "Row 5: 1 problem" in check(specific_needs="XX-NOPE")
    taken_page = check(registration_number=number)
    assert "already recorded" in field_error(taken_page, "r4-registration_number")
    fine = check()
    assert field_error(fine, "r4-nationality") == "" and "problem" not in fine


def test_the_same_truckload_sent_twice_is_written_once(world: World) -> None:
    site = world.api.open_site()
    browser, _ = signed_in(world, "registrar")
    page = browser.get(f"/register?site={site}")
    [key] = FORM_KEY.findall(page.text)
    token = browser.csrf()
    data = {"site": site, "form_key": key, "csrf_token": token,
            **grid(person(world.api.fresh_code("R")))}  # fmt: skip
    first = browser.post("/register", data)
    head = world.api.head()
    again = browser.post("/register", data)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert world.api.head() == head


def test_500_rows_are_accepted_and_501_refused_clearly(world: World) -> None:
    site = world.api.open_site(capacity=2000)
    browser, _ = signed_in(world, "registrar")
    head = world.api.head()
    many = [person(world.api.fresh_code("R"), biometric_reference=f"B{i}") for i in range(501)]
    refused = save(browser, site, *many)
    assert refused.status_code == 400 and world.api.head() == head
    assert "at most 500 people" in refused.text
    saved = save(browser, site, *many[:500])
    assert saved.status_code == 303, saved.text[:2000]
    done = browser.get(saved.headers["location"])
    assert "500 people registered." in done.text


def test_the_form_parser_stays_bounded(world: World) -> None:
    site = world.api.open_site()
    world.api.wait()
    browser, _ = signed_in(world, "registrar")
    head = world.api.head()
    page = browser.get(f"/register?site={site}")
    [key] = FORM_KEY.findall(page.text)
    flood = {f"x{i}": "" for i in range(14_000)}
    response = browser.submit("/register", {"site": site, "form_key": key, **flood})
    assert response.status_code == 400 and world.api.head() == head


def test_a_blank_row_is_left_out_and_an_empty_grid_refused(world: World) -> None:
    site = world.api.open_site()
    world.api.wait()
    browser, _ = signed_in(world, "registrar")
    head = world.api.head()
    empty = save(browser, site, {"household_id": "HH-1", "relationship": "focal_point"})
    assert empty.status_code == 400 and "Enter at least one person." in empty.text
    assert world.api.head() == head


def test_add_a_member_and_next_household_draw_a_row(world: World) -> None:
    site = world.api.open_site()
    browser, _ = signed_in(world, "registrar")
    browser.get(f"/register?site={site}")
    member = browser.get("/register/row?add=member&r3-household_id=HH-ABC").text
    assert 'id="r4"' in member and 'name="r4-household_id" value="HH-ABC"' in member
    assert 'id="r4-relationship"' in member and "autofocus" in member
    household = browser.get("/register/row?add=household&r3-household_id=HH-ABC").text
    assert 'id="r4"' in household and "HH-ABC" not in household
    # Without script, the button sends the form, which comes back one row longer.
    [key] = FORM_KEY.findall(browser.get(f"/register?site={site}").text)
    longer = browser.submit(
        "/register", {"site": site, "form_key": key, "add": "member", **grid(person("X-1"))}
    )
    assert longer.status_code == 200 and 'id="r1"' in longer.text


@pytest.mark.parametrize("role", ["screener", "transfer_officer", "auditor", "site_manager"])
def test_a_role_that_does_not_register_has_no_page(world: World, role: str) -> None:
    site = world.api.open_site()
    browser, _ = signed_in(world, role)
    assert 'href="/register"' not in browser.get("/").text
    assert browser.get(f"/register?site={site}").status_code == 403
    head = world.api.head()
    token = browser.csrf()
    response = browser.post(
        "/register",
        {"site": site, "form_key": "0" * 32, "csrf_token": token, **grid(person("NOPE-1"))},
    )
    assert response.status_code == 403 and world.api.head() == head


def test_a_scoped_registrar_registers_only_at_its_sites(world: World) -> None:
    home, elsewhere = world.api.open_site(), world.api.open_site()
    browser, _ = signed_in(world, "registrar", [home])
    page = browser.get("/register").text  # the one site is chosen
    assert f'name="site" value="{home}"' in page
    assert browser.get(f"/register?site={elsewhere}").status_code == 403
    head = world.api.head()
    [key] = FORM_KEY.findall(page)
    response = browser.submit(
        "/register", {"site": elsewhere, "form_key": key, **grid(person("OUT-1"))}
    )
    assert response.status_code == 403 and world.api.head() == head


def test_arabic_right_to_left_end_to_end(world: World) -> None:
    site = world.api.open_site()
    browser, name = signed_in(world, "registrar", locale="ar")
    page = browser.get(f"/register?site={site}").text
    assert 'dir="rtl"' in page and 'tabindex="1' not in page
    # Codes are written left to right inside the right-to-left page; names in their script.
    assert 'name="r0-registration_number" value="" aria-labelledby' in page
    assert 'dir="ltr"' in page and 'dir="auto"' in page
    bad = save(browser, site, person(world.api.fresh_code("R"), given_name="آمنة",
                                     nationality="QQQ"))  # fmt: skip
    assert bad.status_code == 400
    assert "رمز" in field_error(bad.text, "r0-nationality")
    assert 'value="آمنة"' in bad.text
    good = save(browser, site, person(world.api.fresh_code("R"), given_name="آمنة"))
    assert good.status_code == 303
    done = browser.get(good.headers["location"]).text
    assert 'dir="rtl"' in done
    world.api.wait()
    assert actors(world, site) == [name]


def test_the_confirmation_flags_likely_duplicates_without_blocking(world: World) -> None:
    site = world.api.open_site()
    [existing] = world.api.register(site, given_name="Fatima", family_name="Abakar",
                                    estimated_age=40)  # fmt: skip
    world.api.wait()
    browser, _ = signed_in(world, "registrar")
    number = world.api.fresh_code("R")
    response = save(browser, site, person(number, given_name="Fatma", family_name="Abakar",
                                          estimated_age="40"))  # fmt: skip
    assert response.status_code == 303
    done = browser.get(response.headers["location"]).text
    assert "1 person registered." in done
    listed = done.split("Likely duplicates")[2]
    assert number in listed and f'href="/persons/{existing}"' in listed
    # Another account does not find this batch.
    other, _ = signed_in(world, "registrar")
    assert other.get(response.headers["location"]).status_code == 404
