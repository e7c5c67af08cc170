"""Rosters, a person and separated households in the console: the API's reads, under
the API's rules (scope, hidden personal fields, access trail), in English and Arabic."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from campledger.api.composition import Backend
from campledger.api.console import rosters
from campledger.api.database import library_env
from campledger.api.http.app import create_app
from campledger.api.settings import Settings
from campledger.domain.service.registry import Registry
from tests.api.conftest import PREFIX, Api
from tests.console.clock import Clock
from tests.console.conftest import Browser, Console, console_context


class World:
    """The API (with its live projector) and the console, on one database."""

    def __init__(self, api: Api, console: Console) -> None:
        self.api = api
        self.console = console

    def site_with_people(self, count: int = 3, **overrides: object) -> tuple[str, list[UUID]]:
        code = self.api.open_site()
        people = self.api.register(code, count=count, **overrides)
        self.api.wait()
        return code, people

    def trail(self, person: UUID) -> list[tuple[str, str]]:
        rows = self.api.conn.execute(
            "SELECT actor, purpose FROM access_trail WHERE person_id = %s ORDER BY id", (person,)
        ).fetchall()
        return [(row[0], row[1]) for row in rows]


@pytest.fixture(scope="module")
def world(console_database_url: str) -> Iterator[World]:
    registry = Registry(env=library_env(console_database_url))
    backend = Backend(Settings(database_url=console_database_url), console_database_url, registry)
    app = create_app(backend, run_projector=True)
    clock = Clock(datetime.now(UTC))
    console_context(app).clock = clock
    try:
        with (
            TestClient(app) as client,
            psycopg.connect(console_database_url, autocommit=True) as conn,
        ):
            yield World(
                Api(client=client, backend=backend, conn=conn),
                Console(app, conn, clock, client.portal),
            )
    finally:
        registry.close()


def signed_in(
    world: World, role: str, sites: list[str] | None = None, locale: str = "en"
) -> tuple[Browser, str]:
    name, password = world.console.account(role, sites or [], locale)
    browser = world.console.browser()
    assert browser.sign_in(name, password).status_code == 303
    return browser, name


def numbers(html: str) -> list[str]:
    return re.findall(r'href="/persons/([0-9a-f-]{36})"', html)


# --- who may open the pages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "rosters", "people", "households"),
    [
        ("registrar", True, True, False),
        ("transfer_officer", False, True, True),  # households: a reunification is theirs
        ("site_manager", True, True, True),
        ("monitor", False, False, False),
    ],
)
def test_each_role_sees_and_opens_only_its_pages(
    world: World, role: str, rosters: bool, people: bool, households: bool
) -> None:
    browser, _ = signed_in(world, role)
    home = browser.get("/").text
    for path, allowed in (("/sites", rosters), ("/persons", people), ("/households", households)):
        assert (f'href="{path}"' in home) is allowed, path
        page = browser.get(path)
        assert page.status_code == (200 if allowed else 403), path


# --- the roster ---------------------------------------------------------------------------


def test_a_site_scoped_registrar_sees_its_roster_with_names_and_each_name_is_on_the_trail(
    world: World,
) -> None:
    home, people = world.site_with_people(3)
    elsewhere, others = world.site_with_people(2)
    browser, name = signed_in(world, "registrar", [home])

    sites = browser.get("/sites").text
    assert f"/sites/{home}/roster" in sites and f"/sites/{elsewhere}/roster" not in sites
    roster = browser.get(f"/sites/{home}/roster")
    assert roster.status_code == 200
    assert sorted(numbers(roster.text)) == sorted(str(p) for p in people)
    assert "Haroun" in roster.text
    assert world.trail(people[0]) == [(name, "console /sites/{code}/roster")]

    assert browser.get(f"/sites/{elsewhere}/roster").status_code == 403
    assert browser.get(f"/persons/{others[0]}").status_code == 403
    assert world.trail(others[0]) == []


def test_the_roster_finds_by_any_spelling_and_by_registration_number(world: World) -> None:
    code, [mohamed] = world.site_with_people(1, given_name="Mohamed", family_name="Idriss")
    world.api.register(code, count=2)
    world.api.wait()
    browser, _ = signed_in(world, "screener", [code])

    found = browser.get(f"/sites/{code}/roster", params={"name": "محمد"})
    assert numbers(found.text) == [str(mohamed)]
    number = world.api.registry.get_person(mohamed).registration_number
    by_number = browser.get(f"/sites/{code}/roster", params={"number": f" {number} "})
    assert numbers(by_number.text) == [str(mohamed)]
    assert (
        "Nobody on this roster matches."
        in browser.get(f"/sites/{code}/roster", params={"number": "NO-SUCH-1"}).text
    )


def test_the_roster_filters_sorts_by_name_and_pages_on_with_htmx(world: World) -> None:
    code = world.api.open_site()
    for family in ("Zubair", "Adam", "Musa"):
        world.api.register(code, family_name=family, sex="male")
    world.api.register(code, sex="female")
    world.api.wait()
    browser, _ = signed_in(world, "site_manager", [code])

    men = browser.get(f"/sites/{code}/roster", params={"sex": "male", "sort": "name"}).text
    assert [n for n in ("Adam", "Musa", "Zubair") if n in men] == ["Adam", "Musa", "Zubair"]
    assert men.index("Adam") < men.index("Musa") < men.index("Zubair")
    assert len(numbers(men)) == 3

    rosters_size, rosters.PAGE_SIZE = rosters.PAGE_SIZE, 2
    try:
        first = browser.get(f"/sites/{code}/roster")
        more = re.search(r'hx-get="([^"]+)"', first.text.split('id="roster-more"')[1])
        assert more is not None and len(numbers(first.text)) == 2
        second = browser.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
        assert len(numbers(second.text)) == 2
        assert set(numbers(first.text)).isdisjoint(numbers(second.text))
    finally:
        rosters.PAGE_SIZE = rosters_size


def test_the_roster_as_of_a_past_day_is_the_apis_for_the_same_moment(world: World) -> None:
    code = world.api.open_site()
    day = date.today() - timedelta(days=3)
    then = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    early = world.api.register(code, count=2, occurred_at=then)
    world.api.register(code, count=1)  # today: not there at the end of that day
    world.api.wait()
    browser, _ = signed_in(world, "site_manager", [code])

    page = browser.get(f"/sites/{code}/roster", params={"as_of": day.isoformat()})
    end_of_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    api = world.api.client.get(
        f"{PREFIX}/sites/{code}/roster",
        params={"as_of": (end_of_day - timedelta(microseconds=1)).isoformat()},
        headers=world.api.auth("site_manager", [code]),
    )
    assert api.status_code == 200, api.text
    assert sorted(numbers(page.text)) == sorted(r["person_id"] for r in api.json()["items"])
    assert sorted(numbers(page.text)) == sorted(str(p) for p in early)
    # Each shown by the registration number they have now, not by an id nobody reads.
    for person in early:
        found = world.api.client.get(
            f"{PREFIX}/persons/{person}", headers=world.api.auth("auditor")
        ).json()
        assert f"<bdi>{found['registration_number']}</bdi>" in page.text


def test_the_roster_downloads_as_the_apis_csv(world: World) -> None:
    code, people = world.site_with_people(3)
    browser, name = signed_in(world, "registrar", [code])
    download = browser.get(f"/sites/{code}/roster.csv")
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted(r["person_id"] for r in rows) == sorted(str(p) for p in people)
    assert rows[0]["family_name"] == "Haroun"
    assert (name, "console /sites/{code}/roster.csv") in world.trail(people[0])


# --- a person -----------------------------------------------------------------------------


def test_reading_a_person_shows_where_they_are_and_their_history_and_is_on_the_trail(
    world: World,
) -> None:
    code = world.api.open_site()
    person = world.api.held_person(code)
    world.api.wait()
    browser, name = signed_in(world, "screener", [code])

    page = browser.get(f"/persons/{person}")
    assert page.status_code == 200
    assert "Amina" in page.text and "Personal details" in page.text
    for shown in ("Held", "Registered", "setup", code):
        assert shown in page.text
    assert world.trail(person) == [(name, "console /persons/{person_id}")]


def test_a_transfer_officer_reads_a_person_without_personal_fields_and_leaves_no_trail(
    world: World,
) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "transfer_officer", [code])
    page = browser.get(f"/persons/{person}")
    assert page.status_code == 200
    for hidden in ("Amina", "Haroun", "Personal details", "Date of birth"):
        assert hidden not in page.text
    assert world.trail(person) == []

    number = world.api.registry.get_person(person).registration_number
    found = browser.get("/persons", params={"number": number})
    assert found.status_code == 303 and found.headers["location"] == f"/persons/{person}"


def test_a_persons_history_as_known_at_a_past_time_leaves_out_what_came_later(
    world: World,
) -> None:
    code, [person] = world.site_with_people(1)
    before_hold = datetime.now(UTC)
    world.api.registry.hold_person(person_id=person, reason="interview", actor="setup")
    world.api.wait()
    browser, _ = signed_in(world, "site_manager", [code])

    now = browser.get(f"/persons/{person}").text
    assert "interview" in now
    known = before_hold.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    past = browser.get(f"/persons/{person}", params={"known_at": known}).text
    assert "interview" not in past and "as it was recorded up to" in past


def test_an_erased_persons_page_says_so_and_shows_no_personal_value(world: World) -> None:
    code = world.api.open_site()
    person = world.api.held_person(code)
    world.api.registry.erase_personal_data(
        person_id=person, basis="court_order", order_reference="CO-7/2026", actor="setup"
    )
    world.api.wait()
    browser, _ = signed_in(world, "admin")

    page = browser.get(f"/persons/{person}").text
    assert "Personal data erased" in page and "can no longer be read" in page
    assert "Amina" not in page and "Haroun" not in page
    # Every personal detail, and the hold's reason, reads "Erased"; the erasure is in the
    # history with its basis and order.
    assert page.count("<em>Erased</em>") >= 7
    assert "A court order" in page and "CO-7/2026" in page
    # A name can no longer be corrected, a fact still can.
    form = page.split('id="correct-title"')[1].split("</form>")[0]
    correctable = re.findall(r'<option value="([a-z_]+)"', form)
    assert "given_name" not in correctable and "sex" in correctable


# --- households -----------------------------------------------------------------------------


def test_a_scoped_reader_who_may_not_trace_families_sees_members_elsewhere_only_counted(
    world: World,
) -> None:
    home, away = world.api.open_site(), world.api.open_site()
    household = f"HH-{world.api.unique()}"
    [here] = world.api.register(home, household_id=household, relationship="focal_point")
    [there] = world.api.register(away, household_id=household, relationship="child")
    world.api.wait()
    # Auditors read households but do not trace families (docs/security.md).
    browser, _ = signed_in(world, "auditor", [home])

    listing = browser.get("/households").text
    assert household in listing and str(here) in listing and str(there) not in listing
    assert "1 more member is at a site outside yours." in listing
    assert away not in listing
    person = browser.get(f"/persons/{here}").text
    assert str(there) not in person and "1 more member" in person
    api = world.api.client.get(
        f"{PREFIX}/households/{household}", headers=world.api.auth("auditor", [home])
    ).json()
    assert [m["person_id"] for m in api["members"]] == [str(here)]

    # Site managers trace families: they see every member, and where.
    tracer, _ = signed_in(world, "site_manager", [home])
    assert str(there) in tracer.get(f"/households/{household}").text


# --- Arabic -------------------------------------------------------------------------------


def test_the_pages_read_right_to_left_in_arabic(world: World) -> None:
    code, [person] = world.site_with_people(1)
    browser, _ = signed_in(world, "site_manager", [code], locale="ar")
    for path, words in (
        ("/sites", "قوائم الموجودين"),
        (f"/sites/{code}/roster", "رقم التسجيل"),
        (f"/persons/{person}", "السجل"),
        ("/households", "الأسر"),
    ):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert 'dir="rtl"' in page.text and words in page.text, path
