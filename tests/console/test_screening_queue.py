"""The screening queue: who at a site has not had a step, by sex and age band; a step
recorded or a hold released from it, through the catalogue as the signed-in screener;
refusals next to their field, in the reader's language, writing nothing."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from campledger.projections.audit_log import AuditLog
from campledger.projections.holds import Holds
from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in
from tests.console.test_site_forms import form_keys

world = test_people_pages.world

LISTED = re.compile(r'href="/persons/([0-9a-f-]{36})"')
ORDER = {"authority": "Governor of Ouaddaï", "order_reference": "GOV-OUA-2025-114"}


def listed(browser: Browser, code: str, **params: str) -> list[UUID]:
    page = browser.get("/screening", params={"site": code, **params})
    assert page.status_code == 200, page.text
    return [UUID(found) for found in LISTED.findall(page.text)]


def record(
    browser: Browser, code: str, person: UUID, **data: str
) -> tuple[int, str, dict[str, Any]]:
    """Open the person's screening page from the queue and send its step form."""
    browser.get(f"/screening/persons/{person}", params={"site": code})
    step_key = form_keys(browser)[0]
    fields = {"step": "security", "outcome": "cleared", "queue": f"site={code}&step=security"}
    response = browser.submit(
        f"/screening/persons/{person}/steps", {**fields, **data, "form_key": step_key}
    )
    return response.status_code, response.text, dict(response.headers)


def error_at(page: str, field: str) -> str:
    return page.split(f'id="{field}-error">')[1].split("</span>")[0]


def actors(world: World, person: UUID) -> list[tuple[str, str]]:
    world.api.wait()
    rows = world.api.conn.execute(
        f"SELECT action, actor FROM {AuditLog.live_schema()}.entries WHERE subject_id = %s "
        "ORDER BY position",
        (person,),
    ).fetchall()
    return [(row[0], row[1]) for row in rows[1:]]  # after the registration


def test_the_queue_lists_who_has_not_had_the_step_by_sex_and_age_band(world: World) -> None:
    code = world.api.open_site()
    man, screened_man = world.api.register(code, count=2, sex="male", estimated_age=30)
    [boy] = world.api.register(code, sex="male", estimated_age=10)
    [woman] = world.api.register(code, sex="female", estimated_age=30)
    world.api.registry.record_screening_step(
        person_id=screened_man, step="security", outcome="cleared", reason="", actor="setup"
    )
    world.api.wait()
    browser, name = signed_in(world, "screener", [code])

    men = listed(browser, code, step="security", sex="male", age_band="18-59")
    assert men == [man]
    assert sorted(listed(browser, code, step="security")) == sorted([man, boy, woman])
    assert listed(browser, code, step="identity", sex="male", age_band="5-11") == [boy]
    # Each list that showed the name is on the access trail, under the queue's own path.
    assert world.trail(man) == [(name, "console /screening")] * 2
    assert browser.get("/screening", params={"site": code, "step": "palm"}).status_code == 400


def test_a_screener_clears_a_person_from_the_queue_and_the_event_names_them(
    world: World,
) -> None:
    code, [first, second] = world.site_with_people(2, sex="male")
    browser, name = signed_in(world, "screener", [code])
    page = browser.get("/screening", params={"site": code, "step": "security"})
    assert 'href="/screening' in page.text  # the menu has the queue
    first_key, _ = form_keys(browser)
    response = browser.submit(
        f"/screening/persons/{first}/steps",
        {"step": "security", "outcome": "cleared", "queue": f"site={code}&step=security",
         "form_key": first_key},
    )  # fmt: skip
    assert response.status_code == 303
    queue = f"/screening?site={code}&step=security"
    assert response.headers["location"] == queue + "&done=step-recorded"
    after = browser.get(response.headers["location"]).text
    assert "The screening step is recorded." in after
    assert [UUID(p) for p in LISTED.findall(after)] == [second]
    assert actors(world, first) == [("person.screening_step_recorded", name)]


def test_held_with_its_order_holds_the_person_on_the_register_under_the_screeners_name(
    world: World,
) -> None:
    code, [person] = world.site_with_people(1, sex="male")
    browser, name = signed_in(world, "screener", [code])
    status, _, headers = record(
        browser, code, person, outcome="held", review_date="2099-01-31", **ORDER
    )
    assert status == 303 and headers["location"].endswith("done=held")
    assert listed(browser, code, step="security") == []
    assert listed(browser, code, step="security", held="1") == [person]
    assert world.api.registry.get_person(person).held
    # The person's own page leads to the release too.
    assert f'href="/screening/persons/{person}"' in browser.get(f"/persons/{person}").text
    register = browser.get("/holds", params={"site": code}).text
    assert "GOV-OUA-2025-114" in register and name in register
    row = world.api.conn.execute(
        f"SELECT decided_by, authority, review_date::text FROM {Holds.live_schema()}.holds "
        "WHERE person_id = %s",
        (person,),
    ).fetchone()
    assert row == (name, ORDER["authority"], "2099-01-31")


def test_held_without_an_order_reference_is_refused_next_to_it_and_writes_nothing(
    world: World,
) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "screener", [code])
    head = world.api.head()
    status, page, _ = record(
        browser, code, person, outcome="held", authority="Governor", order_reference=" "
    )
    assert status == 400 and world.api.head() == head
    assert "Fill in this field." in error_at(page, "order_reference")
    assert 'href="#order_reference"' in page
    assert 'value="Governor"' in page  # what was typed is kept
    assert not world.api.registry.get_person(person).held
    # The domain's own rules come back by field too: an order goes with 'held' only.
    status, page, _ = record(browser, code, person, outcome="cleared", **ORDER)
    assert status == 400 and world.api.head() == head
    assert "goes with a &#39;held&#39; outcome only" in error_at(page, "outcome")
    status, page, _ = record(browser, code, person, outcome="held", review_date="soon", **ORDER)
    assert status == 400 and "year-month-day" in error_at(page, "review_date")
    assert world.api.head() == head


def test_the_same_form_sent_twice_writes_once(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "screener", [code])
    browser.get(f"/screening/persons/{person}")
    key = form_keys(browser)[0]
    data = {"step": "medical", "outcome": "referred", "form_key": key, "csrf_token": browser.csrf()}
    first = browser.post(f"/screening/persons/{person}/steps", data)
    head = world.api.head()
    again = browser.post(f"/screening/persons/{person}/steps", data)
    assert first.status_code == again.status_code == 303
    assert world.api.head() == head
    assert world.api.registry.get_person(person).screening == {"medical": "referred"}


def test_a_held_person_is_released_on_an_order_with_a_reason(world: World) -> None:
    code = world.api.open_site()
    person = world.api.held_person(code)
    world.api.wait()
    browser, name = signed_in(world, "screener", [code])
    page = browser.get(f"/screening/persons/{person}", params={"site": code, "held": "1"}).text
    assert 'action="/screening/persons/' + str(person) + '/release"' in page
    _, release_key = form_keys(browser)
    url = f"/screening/persons/{person}/release"
    queue = f"site={code}&held=1"
    head = world.api.head()
    refused = browser.submit(url, {"authority": "Court", "queue": queue, "form_key": release_key})
    assert refused.status_code == 400 and world.api.head() == head
    assert "Fill in this field." in error_at(refused.text, "release_reason")
    _, release_key = form_keys(browser)
    released = browser.submit(
        url,
        {"reason": "cleared by review", "authority": "Court", "order_reference": "CT-9",
         "queue": queue, "form_key": release_key},
    )  # fmt: skip
    assert released.status_code == 303
    after = browser.get(released.headers["location"]).text
    assert "The person is released." in after and str(person) not in after
    assert not world.api.registry.get_person(person).held
    assert actors(world, person)[-1] == ("person.released", name)


def test_roles_that_do_not_screen_get_no_form_and_are_refused(world: World) -> None:
    code, [person] = world.site_with_people(1)
    head = world.api.head()
    for role in ("registrar", "transfer_officer"):
        browser, _ = signed_in(world, role, [code])
        assert 'href="/screening"' not in browser.get("/").text
        assert browser.get("/screening", params={"site": code}).status_code == 403
        assert browser.get(f"/screening/persons/{person}").status_code == 403
        person_page = browser.get(f"/persons/{person}").text
        # A registrar corrects details from a person's page; nobody here screens from it.
        assert "/steps" not in person_page and "/screening/" not in person_page
        refused = browser.submit(
            f"/screening/persons/{person}/steps",
            {"step": "security", "outcome": "cleared", "form_key": "0" * 32},
        )
        assert refused.status_code == 403
        refused = browser.submit(
            f"/screening/persons/{person}/release", {"reason": "x", "form_key": "1" * 32}
        )
        assert refused.status_code == 403
    assert world.api.head() == head


def test_a_scoped_screener_cannot_act_at_another_site(world: World) -> None:
    home, [mine] = world.site_with_people(1)
    elsewhere, [other] = world.site_with_people(1)
    browser, _ = signed_in(world, "screener", [home])
    assert browser.get("/screening", params={"site": elsewhere}).status_code == 403
    assert browser.get(f"/screening/persons/{other}").status_code == 403
    # A form drawn for one's own site, sent for someone elsewhere.
    browser.get(f"/screening/persons/{mine}")
    key = form_keys(browser)[0]
    head = world.api.head()
    refused = browser.submit(
        f"/screening/persons/{other}/steps",
        {"step": "security", "outcome": "held", "form_key": key, **ORDER},
    )
    assert refused.status_code == 403 and world.api.head() == head
    assert world.trail(other) == []
    # With a single site, the queue opens on it.
    assert listed(browser, "") == [mine]


def test_the_queue_works_in_arabic_from_page_to_refusal(world: World) -> None:
    code, [person] = world.site_with_people(1, sex="male")
    browser, _ = signed_in(world, "screener", [code], locale="ar")
    page = browser.get("/screening", params={"site": code, "step": "security"}).text
    assert 'dir="rtl"' in page and "مقابلة أمنية" in page
    head = world.api.head()
    status, refused, _ = record(browser, code, person, outcome="held", authority="المحافظ")
    assert status == 400 and world.api.head() == head
    assert 'dir="rtl"' in refused
    assert "املأ هذا الحقل" in error_at(refused, "order_reference")
    status, _, headers = record(
        browser, code, person, outcome="held", authority="المحافظ", order_reference="GOV-7"
    )
    assert status == 303
    done = browser.get(headers["location"]).text
    assert "تم تسجيل خطوة الفحص" in done
