"""No serious or critical accessibility fault on any page of the console, in English and
in Arabic: axe-core run in Chromium on the sign-in page, the forced password change, home,
language, password, an error page, and every page of the navigation (``PAGES``, so a page
added later is checked without touching this file) with each of its tabs and the first
detail page it or a tab links to.

axe is evaluated into the page through the browser's debugging protocol, which the
console's Content-Security-Policy (no inline scripts) does not govern: the page is checked
exactly as it is served, CSP included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bench.console_screenshots import detail_link, links, screening_pages, tab_links
from campledger.api.console.pages import PAGES
from tests.console.browser.conftest import CHOSEN, TABLET, DemoServer

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Moderate and minor findings are for review; these two make a page unusable to someone.
BLOCKING = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in found if v["impact"] in BLOCKING]


def describe(where: str, violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{where}: [{v['impact']}] {v['id']} ({v['help']}) at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in violations
    ]


def test_axe_itself_runs_under_the_consoles_content_security_policy(
    browser: Browser, demo_server: DemoServer
) -> None:
    page = browser.new_page(viewport=TABLET)
    response = page.goto(demo_server.base_url + "/sign-in")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert axe_violations(page) == []
    assert page.evaluate("axe.version") == "4.14.1"
    # A fault planted in the served page is found: the check can fail.
    page.evaluate(
        "document.querySelector('main').append(Object.assign(document.createElement('img'),"
        " {src: '/static/none.png'}))"
    )
    assert "image-alt" in [v["id"] for v in axe_violations(page)]
    page.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_no_serious_or_critical_violation_on_any_page(
    browser: Browser, demo_server: DemoServer, locale: str
) -> None:
    base = demo_server.base_url
    context = browser.new_context(viewport=TABLET, locale=locale)
    page = context.new_page()
    faults: list[str] = []
    checked: list[str] = []

    def check(where: str) -> None:
        assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
        checked.append(where)
        faults.extend(describe(f"{where} [{locale}]", axe_violations(page)))

    page.goto(base + "/sign-in")
    check("/sign-in")
    page.locator("input[name=name]").fill("nobody")
    page.locator("input[name=password]").fill("not the password")
    page.locator("form[action='/sign-in'] button[type=submit]").click()
    check("/sign-in (refused)")

    # An administrator opens every page; first the password change forced at first sign-in.
    name, one_time = demo_server.account("admin", locale=locale, chosen=False)
    demo_server.sign_in(page, name, one_time)
    assert page.url.endswith("/password")
    check("/password (first sign-in)")
    page.locator("input[name=current]").fill(one_time)
    page.locator("input[name=new]").fill(CHOSEN)
    page.locator("input[name=confirm]").fill(CHOSEN)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/?done=password-changed")
    check("/ (password changed)")

    for path in ("/password", "/language", "/no-such-page"):
        page.goto(base + path)
        check(path)
    for entry in PAGES:
        page.goto(base + entry.path)
        check(entry.path)
        for tab in tab_links(page):
            page.goto(base + tab)
            check(tab)
        page.goto(base + entry.path)
        detail = detail_link(page, base, entry.path)
        if detail:
            page.goto(base + detail)
            check(detail)
    # The forms that write, which no menu entry leads to directly.
    page.goto(base + "/sites")
    site = links(page, "main a[href$='/manage']")[0]
    for path in ("/sites/new", site):
        page.goto(base + path)
        check(path)
    page.locator("#capacity").fill("-5")
    page.locator("form[action$='/capacity'] button[type=submit]").click()
    assert page.locator(".error-summary").is_visible()
    check(site + " (refused)")
    screening = screening_pages(page, base)
    assert screening is not None, "the demo has men waiting for a security interview"
    for path in screening:
        page.goto(base + path)
        check(path)
    page.locator("#outcome").select_option("held")
    page.locator("form[action$='/steps'] button[type=submit]").click()
    assert page.locator("#order_reference-error").is_visible()
    check(screening[1] + " (refused)")
    # A person's page with its correction and departure forms, and a refused correction.
    person = screening[1].split("?")[0].removeprefix("/screening")
    page.goto(base + person)
    check(person)
    page.locator("#field").select_option("date_of_birth")
    page.locator("#value").fill("someday")
    page.locator("form[action$='/corrections'] button[type=submit]").click()
    assert page.locator("#value-error").is_visible()
    check(person + " (refused)")
    # The registration grid at a site, and a truckload refused on its row.
    page.goto(base + "/register")
    code = page.locator("#site option").nth(1).get_attribute("value")
    page.goto(f"{base}/register?site={code}")
    check("/register?site=")
    page.locator("#r0-given_name").fill("Amina")
    page.locator("#save").click()
    assert page.locator(".error-summary").is_visible()
    check("/register (refused)")
    # Planning a transfer from a site's roster, and a plan refused at the typed numbers.
    page.goto(f"{base}/transfers/new?origin={code}")
    check("/transfers/new?origin=")
    page.locator("#numbers").fill("NOBODY-0000")
    page.locator("main form[method=post] button[type=submit]").last.click()
    assert page.locator(".error-summary").is_visible()
    check("/transfers/new (refused)")
    context.close()

    assert not faults, "\n".join(faults)
    assert len(checked) >= 7 + len(PAGES)
    # The demo's transfers are all reconciled: a manifest is reached through the tabs.
    assert "/transfers?view=reconciled" in checked
    assert any(where.startswith("/transfers/") for where in checked)
