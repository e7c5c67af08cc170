"""The operation overview in Chromium, in English and Arabic, on the demo operation: the
charts are drawn (each image decoded to its full size), the page reads right to left in
Arabic, and a screenshot of each is kept to be looked at; and the holds register."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.console.browser.conftest import DemoServer

LAPTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize(
    ("locale", "heading"),
    [("en", "Operation overview"), ("ar", "نظرة عامة على العملية")],
)
def test_the_overview_draws_its_charts_in_english_and_arabic(
    browser: Browser,
    demo_server: DemoServer,
    screenshots: Path,
    locale: str,
    heading: str,
) -> None:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    demo_server.sign_in(page, *demo_server.account("site_manager", locale=locale))
    response = page.goto(demo_server.base_url + "/overview")
    assert response is not None and response.status == 200

    expect(page.locator("h1")).to_have_text(heading)
    assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
    images = page.locator("img.chart-image")
    assert images.count() >= 2  # the movement chart and at least one site's pyramid
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        # Decoded and laid out: a chart the browser refused (CSP, bad SVG) has no size.
        assert image.evaluate("i => i.complete && i.naturalWidth > 0 && i.width > 0")
    page.screenshot(path=str(screenshots / f"overview-{locale}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize(("locale", "heading"), [("en", "Holds register"), ("ar", "سجل الاحتجاز")])
def test_the_holds_register_in_english_and_arabic(
    browser: Browser, demo_server: DemoServer, screenshots: Path, locale: str, heading: str
) -> None:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    demo_server.sign_in(page, *demo_server.account("site_manager", locale=locale))
    page.locator("nav.nav a[href='/holds']").click()
    expect(page.locator("h1")).to_have_text(heading)
    # The filters work from the keyboard: a labelled site list and a submit button.
    page.get_by_role("button").filter(has_text="Show" if locale == "en" else "عرض").focus()
    page.screenshot(path=str(screenshots / f"holds-{locale}.png"), full_page=True)
    context.close()
