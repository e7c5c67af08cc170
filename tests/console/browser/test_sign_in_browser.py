"""Sign-in, the forced password change, the home page and sign-out, in Chromium; and the
Arabic layout, right to left."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import playwright
import psycopg
from playwright.sync_api import Browser, Page, expect

from campledger.api.services.accounts import AccountPolicy, create_account
from tests.console.browser.conftest import chromium_major
from tests.reliability.support import Server

CHOSEN = "a long walk to the well"
TABLET = {"width": 1024, "height": 768}
BROWSERS_JSON = Path("driver", "package", "browsers.json")


def account(database_url: str, name: str, role: str, sites: list[str], locale: str) -> str:
    """Created as `campledger user create` would; returns the one-time password."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        issued = create_account(
            conn, name=name, role=role, sites=sites, locale=locale,
            now=datetime.now(UTC), policy=AccountPolicy(),
        )  # fmt: skip
    return issued.one_time_password


def sign_in(page: Page, server: Server, name: str, password: str) -> None:
    page.goto(server.base_url + "/")
    expect(page).to_have_url(server.base_url + "/sign-in?next=%2F")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_browser_is_debians_chromium_of_the_major_version_playwright_bundles(
    browser: Browser,
) -> None:
    """The browser launched is the system's (not a download), and Playwright's pinned
    release was built for its major version; a Debian update past it warns, so that the
    pin is moved, rather than failing every run."""
    assert int(browser.version.split(".")[0]) == chromium_major()
    bundled = json.loads((Path(playwright.__file__).parent / BROWSERS_JSON).read_text())
    version = next(b["browserVersion"] for b in bundled["browsers"] if b["name"] == "chromium")
    if int(version.split(".")[0]) != chromium_major():
        warnings.warn(
            f"Debian's chromium is {browser.version}, Playwright bundles {version}: "
            "pin the Playwright release built for Debian's major version",
            stacklevel=1,
        )


def test_sign_in_change_the_one_time_password_land_and_sign_out(
    browser: Browser, server: Server, database_url: str, screenshots: Path
) -> None:
    one_time = account(database_url, "Amina Haroun", "registrar", ["TIN-RC", "GOZ-CP"], "en")
    page = browser.new_page(viewport=TABLET)
    page.goto(server.base_url + "/sign-in")
    page.screenshot(path=screenshots / "sign-in-en.png")

    sign_in(page, server, "amina haroun", one_time)
    expect(page).to_have_url(server.base_url + "/password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    page.get_by_label("One-time password").fill(one_time)
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("New password again").fill("too short")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("alert")).to_contain_text("Use at least 12 characters")
    page.screenshot(path=screenshots / "password-error-en.png", full_page=True)

    page.get_by_label("One-time password").fill(one_time)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("New password again").fill(CHOSEN)
    page.get_by_role("button", name="Save password").click()

    expect(page).to_have_url(server.base_url + "/?done=password-changed")
    expect(page.get_by_role("status")).to_have_text("Your password has been changed.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Amina Haroun")
    expect(page.locator(".facts").first).to_contain_text("Registrar")
    expect(page.locator(".tags")).to_contain_text("TIN-RC")
    expect(page.locator(".tags")).to_contain_text("GOZ-CP")
    cookie = next(c for c in page.context.cookies() if c["name"] == "campledger_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.screenshot(path=screenshots / "home-en.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server.base_url + "/sign-in?done=signed-out&lang=en")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.goto(server.base_url + "/")
    expect(page).to_have_url(server.base_url + "/sign-in?next=%2F")


def test_arabic_pages_are_laid_out_right_to_left(
    browser: Browser, server: Server, database_url: str, screenshots: Path
) -> None:
    one_time = account(database_url, "حليمة آدم", "screener", ["ABE-HF"], "ar")
    page = browser.new_page(viewport=TABLET, locale="ar")
    page.goto(server.base_url + "/sign-in")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("تسجيل الدخول")
    page.screenshot(path=screenshots / "sign-in-ar.png")

    page.get_by_label("اسم الحساب").fill("حليمة آدم")
    page.get_by_label("كلمة المرور", exact=True).fill(one_time)
    page.get_by_role("button", name="تسجيل الدخول").click()
    page.get_by_label("كلمة المرور لمرة واحدة").fill(one_time)
    page.get_by_label("كلمة المرور الجديدة", exact=True).fill(CHOSEN)
    page.get_by_label("كلمة المرور الجديدة مرة أخرى").fill(CHOSEN)
    page.get_by_role("button", name="حفظ كلمة المرور").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("مرحبًا، حليمة آدم")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    # Right to left: the name of the product at the right edge, the account menu at the left.
    brand = page.locator(".masthead .brand").bounding_box()
    menu = page.locator(".account-menu").bounding_box()
    assert brand and menu and brand["x"] > menu["x"] + menu["width"]
    # Labels in a description list sit to the right of their values.
    term = page.locator(".facts dt").first.bounding_box()
    value = page.locator(".facts dd").first.bounding_box()
    assert term and value and term["x"] > value["x"]
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    page.screenshot(path=screenshots / "home-ar.png", full_page=True)
