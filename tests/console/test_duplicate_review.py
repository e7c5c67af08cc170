"""Deciding a likely duplicate in the console: the pair's page shows the two records side
by side with what differs marked (names only for roles that may see them, each record
shown on the access trail), and merges them or dismisses the pair through the command
catalogue as the signed-in account; the pair then leaves the list."""

from __future__ import annotations

import itertools
from uuid import UUID

import pytest

from campledger.domain.history import person_history
from campledger.domain.model.duplicates import pair_id
from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in
from tests.console.test_site_forms import form_keys

world = test_people_pages.world

# A family name of its own per pair, so that each test's records pair only with each other.
_NAMES = itertools.cycle(
    ["Tahir", "Mahjoub", "Khamis", "Yousif", "Bakhit", "Idris", "Osman", "Zakaria", "Lual"]
)
_ROUND = itertools.count()


def a_pair(world: World, code: str | None = None) -> tuple[str, UUID, UUID]:
    """Two records at one site that the read model proposes as one person; they differ
    in their nationality."""
    code = code or world.api.open_site()
    family = f"{next(_NAMES)}{'i' * next(_ROUND)}"
    [first] = world.api.register(code, family_name=family, nationality="SDN")
    [second] = world.api.register(code, family_name=family, nationality="SSD")
    world.api.wait()
    low, high = sorted((first, second))
    return code, low, high


def pair_path(low: UUID, high: UUID) -> str:
    return f"/duplicates/{low}/{high}"


def keys(browser: Browser, path: str) -> dict[str, str]:
    page = browser.get(path).text
    forms = [name for name in ("merge", "dismiss") if f'{path}/{name}"' in page]
    return dict(zip(forms, form_keys(browser), strict=True))


def listed(browser: Browser, code: str, low: UUID, high: UUID) -> bool:
    return f'href="{pair_path(low, high)}"' in browser.get(f"/duplicates?site={code}").text


def test_the_pair_page_shows_both_records_and_marks_what_differs(world: World) -> None:
    code, low, high = a_pair(world)
    browser, name = signed_in(world, "site_manager", [code])
    assert listed(browser, code, low, high)
    page = browser.get(pair_path(low, high))
    assert page.status_code == 200
    rows = {
        row.split("</th>")[0].rsplit(">", 1)[1]: row
        for row in page.text.split("<tbody>")[1].split("<tr")[1:]
    }
    assert 'class="differs"' in rows["Nationality"] and "Differs" in rows["Nationality"]
    assert "SDN" in rows["Nationality"] and "SSD" in rows["Nationality"]
    assert 'class="differs"' not in rows["Given name"] and "Amina" in rows["Given name"]
    assert 'class="differs"' not in rows["Sex"]
    # Every record shown with its name is on the access trail, under the page's path.
    for person in (low, high):
        assert (name, "console /duplicates/{person_id}/{other_id}") in world.trail(person)


def test_a_site_manager_merges_the_pair_once_and_it_leaves_the_list(world: World) -> None:
    code, low, high = a_pair(world)
    browser, name = signed_in(world, "site_manager", [code])
    drawn = keys(browser, pair_path(low, high))
    data = {
        "survivor": str(high), "reason": "same fingerprints", "form_key": drawn["merge"],
        "csrf_token": browser.csrf(),
    }  # fmt: skip
    first = browser.post(pair_path(low, high) + "/merge", data)
    assert first.status_code == 303 and first.headers["location"] == "/duplicates?done=merged"
    head = world.api.head()
    # Sent again (a double click), it writes nothing and answers as the first did: the
    # merged-away record belongs where the kept one is, so the same scope lets it replay.
    again = browser.post(pair_path(low, high) + "/merge", data)
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    assert world.api.head() == head
    assert world.api.registry.get_person(low).merged_into == high
    entry = person_history(world.api.registry, high).entries[-1]
    assert (entry.action, entry.actor, entry.reason) == (
        "duplicate_merged",
        name,
        "same fingerprints",
    )
    page = browser.get(first.headers["location"]).text
    assert "The two records are merged into the one kept." in page
    assert not listed(browser, code, low, high)


def test_an_administrator_sending_a_merge_twice_gets_the_first_answer(world: World) -> None:
    _, low, high = a_pair(world)
    browser, _ = signed_in(world, "admin")
    drawn = keys(browser, pair_path(low, high))
    data = {
        "survivor": str(low), "reason": "same card", "form_key": drawn["merge"],
        "csrf_token": browser.csrf(),
    }  # fmt: skip
    assert browser.post(pair_path(low, high) + "/merge", data).status_code == 303
    head = world.api.head()
    again = browser.post(pair_path(low, high) + "/merge", data)
    assert again.status_code == 303 and again.headers["location"] == "/duplicates?done=merged"
    assert world.api.head() == head
    assert world.api.registry.get_person(high).merged_into == low


def test_a_reviewer_dismisses_the_pair_once_and_it_leaves_the_list(world: World) -> None:
    code, low, high = a_pair(world)
    browser, name = signed_in(world, "site_manager", [code])
    drawn = keys(browser, pair_path(low, high))
    data = {"reason": "twins", "form_key": drawn["dismiss"], "csrf_token": browser.csrf()}
    first = browser.post(pair_path(low, high) + "/dismiss", data)
    assert first.status_code == 303 and first.headers["location"] == "/duplicates?done=dismissed"
    head = world.api.head()
    assert browser.post(pair_path(low, high) + "/dismiss", data).status_code == 303
    assert world.api.head() == head
    [dismissed] = world.api.registry.events.get(pair_id(low, high))
    assert (dismissed.actor, dismissed.reason) == (name, "twins")  # type: ignore[attr-defined]
    page = browser.get(first.headers["location"]).text
    assert "it is not proposed again" in page
    assert not listed(browser, code, low, high)
    # Both records stay open, and a second dismissal from an old page says why.
    assert world.api.registry.get_person(low).merged_into is None
    again = browser.get(pair_path(low, high)).text
    assert "no longer proposed" in again and "/merge" not in again


@pytest.mark.parametrize(
    ("form", "data", "field", "message"),
    [
        ("merge", {"reason": "same card"}, "survivor", "Fill in this field."),
        ("merge", {"survivor": "high"}, "merge_reason", "Fill in this field."),
        (
            "merge",
            {"survivor": "high", "reason": "same"},
            "survivor",
            "already on another transfer",
        ),
        ("dismiss", {"reason": "  "}, "dismiss_reason", "Fill in this field."),
    ],
)
def test_a_refused_decision_says_why_next_to_the_field_and_writes_nothing(
    world: World, form: str, data: dict[str, str], field: str, message: str
) -> None:
    code, low, high = a_pair(world)
    if "already on another transfer" in message:
        # The record to be merged away is on a transfer's manifest: it may not close.
        world.api.registry.plan_transfer(
            origin=code, destination=world.api.open_site(), manifest=[low], actor="setup"
        )
        world.api.wait()
    browser, _ = signed_in(world, "site_manager", [code])
    drawn = keys(browser, pair_path(low, high))
    sent = {k: (str(high) if v == "high" else v) for k, v in data.items()}
    head = world.api.head()
    response = browser.submit(pair_path(low, high) + f"/{form}", {**sent, "form_key": drawn[form]})
    assert response.status_code == 400 and world.api.head() == head
    at_field = response.text.split(f'id="{field}-error">')[1].split("</span>")[0]
    assert message in at_field
    assert f'href="#{field}"' in response.text and "Traceback" not in response.text


def test_a_survivor_from_outside_the_pair_is_not_a_form_of_ours(world: World) -> None:
    code, low, high = a_pair(world)
    _, other, _ = a_pair(world, code)
    browser, _ = signed_in(world, "site_manager", [code])
    drawn = keys(browser, pair_path(low, high))
    head = world.api.head()
    response = browser.submit(
        pair_path(low, high) + "/merge",
        {"survivor": str(other), "reason": "r", "form_key": drawn["merge"]},
    )
    assert response.status_code == 400 and world.api.head() == head


@pytest.mark.parametrize(("role", "opens"), [("auditor", True), ("registrar", False)])
def test_roles_that_may_not_decide_get_no_form_and_are_refused(
    world: World, role: str, opens: bool
) -> None:
    code, low, high = a_pair(world)
    browser, _ = signed_in(world, role, [code])
    page = browser.get(pair_path(low, high))
    assert page.status_code == (200 if opens else 403)
    assert "/merge" not in page.text and "/dismiss" not in page.text
    browser.get("/")
    head = world.api.head()
    for form, data in (
        ("merge", {"survivor": str(high), "reason": "r"}),
        ("dismiss", {"reason": "r"}),
    ):
        refused = browser.submit(pair_path(low, high) + f"/{form}", {**data, "form_key": "2" * 32})
        assert refused.status_code == 403
    assert world.api.head() == head


def test_a_scoped_reviewer_cannot_decide_a_pair_elsewhere(world: World) -> None:
    _, low, high = a_pair(world)
    browser, _ = signed_in(world, "site_manager", [world.api.open_site()])
    assert browser.get(pair_path(low, high)).status_code == 403
    browser.get("/")
    head = world.api.head()
    for form, data in (
        ("merge", {"survivor": str(high), "reason": "r"}),
        ("dismiss", {"reason": "r"}),
    ):
        refused = browser.submit(pair_path(low, high) + f"/{form}", {**data, "form_key": "3" * 32})
        assert refused.status_code == 403
    assert world.api.head() == head
    assert world.api.registry.get_person(low).merged_into is None


def test_the_pair_page_and_its_refusals_in_arabic(world: World) -> None:
    code, low, high = a_pair(world)
    browser, _ = signed_in(world, "site_manager", [code], locale="ar")
    drawn = keys(browser, pair_path(low, high))
    response = browser.submit(
        pair_path(low, high) + "/dismiss", {"reason": "", "form_key": drawn["dismiss"]}
    )
    assert response.status_code == 400 and 'dir="rtl"' in response.text
    at_field = response.text.split('id="dismiss_reason-error">')[1].split("</span>")[0]
    assert at_field.strip() and "Fill in this field." not in at_field
    assert "Compare two records" not in response.text
    done = browser.submit(
        pair_path(low, high) + "/dismiss", {"reason": "توأمان", "form_key": drawn["dismiss"]}
    )
    assert done.status_code == 303
