"""Correcting a person's detail and recording their departure from the person's page:
each form sends its command through the catalogue as the signed-in account, carries the
version of the person the page showed, and a refusal is shown next to its field, in the
reader's language, with nothing written."""

from __future__ import annotations

import re
from uuid import UUID

import pytest

from campledger.domain.history import HistoryEntry, person_history
from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in
from tests.console.test_site_forms import form_keys

world = test_people_pages.world

VERSION = re.compile(r'name="version" value="(\d+)"')
CORRECTION = re.compile(r'action="/persons/[0-9a-f-]+/corrections"')
DEPARTURE = re.compile(r'action="/persons/[0-9a-f-]+/departure"')


def page_forms(browser: Browser, person: UUID) -> dict[str, str]:
    """The keys and the version the person's page drew into its forms, by form."""
    page = browser.get(f"/persons/{person}").text
    keys = form_keys(browser)
    forms = [name for name, shown in (("correction", CORRECTION), ("departure", DEPARTURE))
             if shown.search(page)]  # fmt: skip
    [version, *_] = VERSION.findall(page) or ["0"]
    return {**dict(zip(forms, keys, strict=True)), "version": version}


def correct(
    browser: Browser, person: UUID, field: str, value: str, reason: str = "card seen", **more: str
) -> tuple[int, str]:
    drawn = page_forms(browser, person)
    data = {"field": field, "value": value, "reason": reason, "version": drawn["version"]}
    response = browser.submit(
        f"/persons/{person}/corrections", {**data, "form_key": drawn["correction"], **more}
    )
    return response.status_code, response.text


def last_entry(world: World, person: UUID) -> HistoryEntry:
    return person_history(world.api.registry, person, include_personal=True).entries[-1]


def at_field(page: str, field: str) -> str:
    return page.split(f'id="{field}-error">')[1].split("</span>")[0]


# --- corrections --------------------------------------------------------------------------


def test_a_registrar_corrects_a_name_and_the_history_shows_old_and_new(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, name = signed_in(world, "registrar", [code])
    status, _ = correct(browser, person, "given_name", "Aminah", "spelling on the card")
    assert status == 303
    assert browser.page is not None
    assert browser.page.headers["location"] == f"/persons/{person}?done=corrected"
    entry = last_entry(world, person)
    assert (entry.action, entry.actor, entry.reason) == (
        "detail_corrected",
        name,
        "spelling on the card",
    )
    assert (entry.reference["old_value"], entry.reference["new_value"]) == ("Amina", "Aminah")
    page = browser.get(f"/persons/{person}?done=corrected").text
    assert "The correction is recorded." in page
    history = page.split('id="history"')[1]
    for shown in ("Old value", "<bdi>Amina</bdi>", "New value", "<bdi>Aminah</bdi>", "Given name"):
        assert shown in history


def test_a_correction_sent_twice_writes_once(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "registrar", [code])
    drawn = page_forms(browser, person)
    data = {
        "field": "nationality", "value": "SSD", "reason": "passport",
        "version": drawn["version"], "form_key": drawn["correction"], "csrf_token": browser.csrf(),
    }  # fmt: skip
    first = browser.post(f"/persons/{person}/corrections", data)
    head = world.api.head()
    again = browser.post(f"/persons/{person}/corrections", data)
    assert first.status_code == again.status_code == 303
    assert world.api.head() == head
    assert world.api.registry.get_person(person).nationality == "SSD"


@pytest.mark.parametrize(
    ("field", "value", "at", "message"),
    [
        ("date_of_birth", "1990-13-45", "value", "Enter a date as year-month-day"),
        ("date_of_birth", "2999-01-01", "value", "This age is not possible."),
        ("estimated_age", "thirty", "value", "Enter a whole number."),
        ("estimated_age", "300", "value", "This age is not possible."),
        ("given_name", "", "value", "Fill in this field."),
        ("sex", "other", "value", "Choose female, male or unknown."),
        ("nationality", "Sudan", "value", "Use a three-letter country code"),
        ("specific_needs", "XX-99", "value", "unknown specific need code"),
        ("weight", "70", "field", "cannot be corrected"),
    ],
)
def test_a_refused_correction_says_why_next_to_the_field_and_writes_nothing(
    world: World, field: str, value: str, at: str, message: str
) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "registrar", [code])
    head = world.api.head()
    status, page = correct(browser, person, field, value)
    assert status == 400 and world.api.head() == head
    assert message in at_field(page, at)
    assert f'href="#{at}"' in page
    assert "Traceback" not in page and '"detail"' not in page
    # What was typed is drawn again, so only the mistake needs typing again.
    assert 'value="card seen"' in page or ">card seen</textarea>" in page


def test_a_correction_without_a_reason_is_refused_at_the_reason(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "registrar", [code])
    head = world.api.head()
    status, page = correct(browser, person, "family_name", "Harun", reason=" ")
    assert status == 400 and world.api.head() == head
    assert "Fill in this field." in at_field(page, "reason")


def test_a_correction_from_a_stale_page_is_refused_and_writes_nothing(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "registrar", [code])
    drawn = page_forms(browser, person)
    # Someone else corrects the record after the page was drawn.
    world.api.registry.correct_detail(
        person_id=person, field="nationality", value="ERI", reason="other desk", actor="setup"
    )
    head = world.api.head()
    response = browser.submit(
        f"/persons/{person}/corrections",
        {"field": "nationality", "value": "SSD", "reason": "passport",
         "version": drawn["version"], "form_key": drawn["correction"]},
    )  # fmt: skip
    assert response.status_code == 400 and world.api.head() == head
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    assert "Someone changed this record while you were working on it" in summary
    assert world.api.registry.get_person(person).nationality == "ERI"


def test_a_form_without_the_version_it_was_drawn_with_is_not_ours(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "registrar", [code])
    drawn = page_forms(browser, person)
    head = world.api.head()
    response = browser.submit(
        f"/persons/{person}/corrections",
        {"field": "nationality", "value": "SSD", "reason": "r", "form_key": drawn["correction"]},
    )
    assert response.status_code == 400 and world.api.head() == head


# --- family tracing -------------------------------------------------------------------------


def test_joining_a_household_at_another_site_is_family_tracing(world: World) -> None:
    home, away = world.api.open_site(), world.api.open_site()
    household = f"HH-{world.api.unique()}"
    world.api.register(away, household_id=household, relationship="focal_point")
    [person] = world.api.register(home)
    world.api.wait()
    # A registrar corrects details but does not trace families: refused at the value.
    registrar, _ = signed_in(world, "registrar", [home])
    head = world.api.head()
    status, page = correct(registrar, person, "household_id", household)
    assert status == 400 and world.api.head() == head
    assert "members at sites outside yours" in at_field(page, "value")
    assert 'name="family_tracing"' not in page

    # A site manager traces families, and corrects nothing else: the box is asked for.
    manager, name = signed_in(world, "site_manager", [home])
    form = manager.get(f"/persons/{person}").text
    assert '<option value="household_id"' in form and 'value="given_name"' not in form
    status, page = correct(manager, person, "household_id", household)
    assert status == 400 and world.api.head() == head
    assert "only as family tracing" in at_field(page, "family_tracing")
    status, _ = correct(manager, person, "household_id", household, family_tracing="yes")
    assert status == 303
    corrected = list(world.api.registry.events.get(person))[-1]
    assert corrected.family_tracing is True and corrected.actor == name  # type: ignore[attr-defined]
    assert world.api.registry.get_person(person).household_id == household


# --- departures -----------------------------------------------------------------------------


def test_a_site_manager_records_a_departure_once(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, name = signed_in(world, "site_manager", [code])
    drawn = page_forms(browser, person)
    data = {
        "reason": "resettled", "version": drawn["version"], "form_key": drawn["departure"],
        "csrf_token": browser.csrf(),
    }  # fmt: skip
    first = browser.post(f"/persons/{person}/departure", data)
    assert first.status_code == 303
    assert first.headers["location"] == f"/persons/{person}?done=departed"
    head = world.api.head()
    assert browser.post(f"/persons/{person}/departure", data).status_code == 303
    assert world.api.head() == head
    entry = last_entry(world, person)
    assert (entry.action, entry.actor, entry.reason) == ("departed", name, "resettled")
    page = browser.get(first.headers["location"]).text
    assert "The departure is recorded." in page and "Departed" in page
    # A closed record offers no departure any more.
    assert not DEPARTURE.search(page)


def test_a_refused_departure_says_why_and_writes_nothing(world: World) -> None:
    origin, destination = world.api.open_site(), world.api.open_site()
    transfer = world.api.planned_transfer(origin, destination)
    [person] = world.api.manifest(transfer)
    world.api.wait()
    browser, _ = signed_in(world, "site_manager", [origin])
    drawn = page_forms(browser, person)
    head = world.api.head()
    for reason, message in (
        ("", "Fill in this field."),
        ("vanished", "departurereason must be one of"),
        ("returned", "This person is already on another transfer."),
    ):
        response = browser.submit(
            f"/persons/{person}/departure",
            {"reason": reason, "version": drawn["version"], "form_key": drawn["departure"]},
        )
        assert response.status_code == 400 and world.api.head() == head
        assert message in at_field(response.text, "departure_reason")


def test_a_held_person_is_not_sent_home_from_custody_by_a_departure(world: World) -> None:
    site = world.api.open_site()
    held = world.api.held_person(site)
    world.api.wait()
    browser, _ = signed_in(world, "site_manager", [site])
    drawn = page_forms(browser, held)
    head = world.api.head()
    response = browser.submit(
        f"/persons/{held}/departure",
        {"reason": "returned", "version": drawn["version"], "form_key": drawn["departure"]},
    )
    assert response.status_code == 400 and world.api.head() == head
    assert "This person is held: release them first." in at_field(response.text, "departure_reason")


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "corrects", "departs"),
    [
        ("registrar", True, False),
        ("site_manager", True, True),  # household ids only, as family tracing
        ("screener", False, False),
        ("transfer_officer", False, False),
        ("auditor", False, False),
    ],
)
def test_each_role_is_offered_only_the_forms_it_may_send(
    world: World, role: str, corrects: bool, departs: bool
) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, role, [code])
    page = browser.get(f"/persons/{person}").text
    assert bool(CORRECTION.search(page)) is corrects
    assert bool(DEPARTURE.search(page)) is departs
    head = world.api.head()
    token = browser.csrf()
    sent = {"form_key": "0" * 32, "csrf_token": token, "version": "1"}
    if not corrects:
        refused = browser.post(
            f"/persons/{person}/corrections",
            {**sent, "field": "nationality", "value": "SSD", "reason": "r"},
        )
        assert refused.status_code == 403
    if not departs:
        refused = browser.post(f"/persons/{person}/departure", {**sent, "reason": "returned"})
        assert refused.status_code == 403
    assert world.api.head() == head


def test_a_scoped_account_cannot_act_on_a_person_elsewhere(world: World) -> None:
    here, _ = world.site_with_people(1)
    _elsewhere, [person] = world.site_with_people(1)
    registrar, _ = signed_in(world, "registrar", [here])
    manager, _ = signed_in(world, "site_manager", [here])
    head = world.api.head()
    for browser, path, data in (
        (registrar, "corrections", {"field": "nationality", "value": "SSD", "reason": "r"}),
        (manager, "departure", {"reason": "returned"}),
    ):
        browser.get("/")
        refused = browser.submit(
            f"/persons/{person}/{path}", {**data, "form_key": "1" * 32, "version": "1"}
        )
        assert refused.status_code == 403
    assert world.api.head() == head
    # An unscoped administrator is offered both forms for anyone.
    admin, _ = signed_in(world, "admin")
    page = admin.get(f"/persons/{person}").text
    assert CORRECTION.search(page) and DEPARTURE.search(page)
    assert 'name="family_tracing"' in page


# --- Arabic --------------------------------------------------------------------------------


def test_the_forms_and_their_refusals_read_in_arabic(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "admin", [code], locale="ar")
    status, page = correct(browser, person, "date_of_birth", "2999-01-01")
    assert status == 400 and 'dir="rtl"' in page
    assert "This age is not possible." not in page
    assert at_field(page, "value").strip()
    status, _ = correct(browser, person, "family_name", "هارون")
    assert status == 303
    assert last_entry(world, person).reference["new_value"] == "هارون"
    page = browser.get(f"/persons/{person}").text
    assert "<bdi>هارون</bdi>" in page
