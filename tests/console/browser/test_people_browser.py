"""A roster, searched by name, leading to a person, in Chromium: English and Arabic; and
the separated households. Screenshots of each page, and of the roster as printed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from campledger.api.database import library_env
from campledger.api.services.accounts import AccountPolicy, create_account
from campledger.api.services.sign_in import change_password
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.event_log import wait_for_position
from tests.reliability.support import Server

CHOSEN = "a long walk to the well"
LAPTOP = {"width": 1280, "height": 800}
SETUP = "Idriss Mahamat"

PEOPLE = [
    ("Mohamed", "Abakar", "محمد", "أبكر", "male", 34, "HH-ABE-7", "focal_point"),
    ("Fatime", "Abakar", "فاطمة", "أبكر", "female", 29, "HH-ABE-7", "spouse"),
    ("Halime", "Youssouf", "حليمة", "يوسف", "female", 62, None, None),
    ("Ousmane", "Zakaria", "عثمان", "زكريا", "male", 17, None, None),
    ("Achta", "Djibrine", "عشة", "جبرين", "female", 8, "HH-ABE-9", "child"),
]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # The projector runs: the pages read the read models.
    running = Server(database_url, tmp_path / "server", projector=True)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def arrange(database_url: str) -> None:
    """Two sites of eastern Chad; a family split between them, one man held."""
    registry = Registry(env=library_env(database_url))
    try:
        registry.open_site(code="ABE-RC", name="Abéché reception centre", kind="reception",
                           capacity=500, actor=SETUP)  # fmt: skip
        registry.open_site(code="FAR-CP", name="Farchana camp", kind="camp", capacity=2000,
                           actor=SETUP)  # fmt: skip
        arrivals = [
            Arrival(registration_number=f"ABE-2026-{i:05d}", given_name=given_ar,
                    family_name=family_ar, given_name_latin=given, family_name_latin=family,
                    sex=sex, nationality="SDN", estimated_age=age, household_id=household,
                    relationship=relationship)
            for i, (given, family, given_ar, family_ar, sex, age, household, relationship)
            in enumerate(PEOPLE, start=1)
        ]  # fmt: skip
        ids = registry.register_arrivals(site_code="ABE-RC", arrivals=arrivals, actor=SETUP)
        [mohamed, *_] = ids.result["person_ids"]
        registry.register_arrivals(
            site_code="FAR-CP",
            arrivals=[Arrival(registration_number="FAR-2026-00001", given_name="زهرة",
                              family_name="جبرين", given_name_latin="Zahra",
                              family_name_latin="Djibrine", sex="female", nationality="SDN",
                              estimated_age=35, household_id="HH-ABE-9",
                              relationship="parent")],
            actor=SETUP,
        )  # fmt: skip
        registry.hold_person(
            person_id=mohamed, reason="identity interview", actor=SETUP,
            authority="Commission nationale", order_reference="CNARR-2026-114",
        )  # fmt: skip
        head = int(registry.recorder.max_notification_id() or 0)
    finally:
        registry.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert wait_for_position(conn, head, 30.0)


def account(database_url: str, name: str, role: str, sites: list[str], locale: str) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(database_url, autocommit=True) as conn:
        issued = create_account(conn, name=name, role=role, sites=sites, locale=locale, now=now,
                                policy=AccountPolicy())  # fmt: skip
        change_password(conn, issued.account, current=issued.one_time_password, new=CHOSEN,
                        now=now, policy=AccountPolicy())  # fmt: skip


def sign_in(page: Page, server: Server, name: str, labels: tuple[str, str, str]) -> None:
    page.goto(server.base_url + "/sign-in")
    page.get_by_label(labels[0]).fill(name)
    page.get_by_label(labels[1], exact=True).fill(CHOSEN)
    page.get_by_role("button", name=labels[2]).click()
    expect(page).to_have_url(server.base_url + "/")


def test_from_the_roster_by_name_to_the_person_in_english_and_arabic(
    browser: Browser, server: Server, database_url: str, screenshots: Path
) -> None:
    arrange(database_url)
    account(database_url, "Amina Haroun", "site_manager", ["ABE-RC"], "en")
    page = browser.new_page(viewport=LAPTOP)
    sign_in(page, server, "Amina Haroun", ("Account name", "Password", "Sign in"))

    page.get_by_role("navigation").get_by_role("link", name="Rosters").click()
    page.get_by_role("link", name="Abéché reception centre", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Roster of Abéché")
    expect(page.locator("#roster-body tr")).to_have_count(5)
    page.screenshot(path=screenshots / "roster-en.png", full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=screenshots / "roster-print.png", full_page=True)
    page.emulate_media(media="screen")

    # Any spelling, either script: the htmx form swaps the results in place.
    page.get_by_label("Name").fill("Muhammad")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#roster-body tr")).to_have_count(1)
    # The search is in the address bar: the view can be bookmarked and shared.
    assert "name=Muhammad" in page.url
    page.get_by_role("link", name="ABE-2026-00001").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("أبكر")
    expect(page.locator(".lede .badge")).to_have_text("Held")
    expect(page.locator(".timeline")).to_contain_text("CNARR-2026-114")
    expect(page.locator(".timeline")).to_contain_text(SETUP)
    expect(page.get_by_role("table")).to_contain_text("ABE-2026-00002")
    page.screenshot(path=screenshots / "person-en.png", full_page=True)

    page.get_by_role("navigation").get_by_role("link", name="Households").click()
    # Split between two sites, and split by a hold.
    expect(page.locator(".household")).to_have_count(2)
    expect(page.get_by_role("region", name="Household HH-ABE-9")).to_contain_text("FAR-2026-00001")
    page.screenshot(path=screenshots / "households-en.png", full_page=True)

    account(database_url, "حليمة آدم", "screener", ["ABE-RC"], "ar")
    arabic = browser.new_page(viewport=LAPTOP, locale="ar")
    sign_in(arabic, server, "حليمة آدم", ("اسم الحساب", "كلمة المرور", "تسجيل الدخول"))
    arabic.goto(server.base_url + "/sites/ABE-RC/roster?sort=name")
    expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    expect(arabic.get_by_role("heading", level=1)).to_contain_text("قائمة الموجودين")
    # By name as readers of Arabic expect: أبكر before جبرين.
    first = arabic.locator("#roster-body tr").first
    expect(first).to_contain_text("أبكر")
    # Right to left: the first column (the number) sits at the right edge.
    number = arabic.locator(".roster thead th").first.bounding_box()
    last = arabic.locator(".roster thead th").last.bounding_box()
    assert number and last and number["x"] > last["x"]
    arabic.screenshot(path=screenshots / "roster-ar.png", full_page=True)
    arabic.get_by_role("link", name="ABE-2026-00003").click()
    expect(arabic.get_by_role("heading", name="السجل")).to_be_visible()
    arabic.screenshot(path=screenshots / "person-ar.png", full_page=True)
