"""No serious or critical accessibility fault on any page of the console, in English and
in Arabic: axe-core run in Chromium on the sign-in page, the forced password change, home,
language, password, an error page, and every page of the navigation (``PAGES``, so a page
added later is checked without touching this file) with each of its tabs and the first
detail page it or a tab links to.

On every form, each control is also reached with the Tab key alone, without a trap.
(How both are checked: ``checks.py``.)
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from bench.console_screenshots import detail_link, links, screening_pages, tab_links
from campledger.api.console.pages import PAGES
from tests.console.browser.checks import axe_violations, describe, unreachable_by_tab
from tests.console.browser.conftest import CHOSEN, TABLET, DemoServer


def test_the_checks_run_under_the_consoles_content_security_policy_and_can_fail(
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
    # So is a control the keyboard cannot reach, beside the form's own, which it can.
    assert unreachable_by_tab(page) == []
    page.evaluate(
        "document.querySelector('main form').append(Object.assign("
        "document.createElement('button'), {id: 'unreachable', tabIndex: -1}))"
    )
    assert unreachable_by_tab(page) == ["unreachable"]
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

    def check(where: str, *, by_tab: bool = False) -> None:
        """axe on the page; on a form, every control reached with Tab too."""
        assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
        checked.append(where)
        faults.extend(describe(f"{where} [{locale}]", axe_violations(page)))
        if by_tab:
            missed = unreachable_by_tab(page)
            faults.extend(f"{where} [{locale}]: not reached by Tab: {c}" for c in missed)

    page.goto(base + "/sign-in")
    check("/sign-in", by_tab=True)
    page.locator("input[name=name]").fill("nobody")
    page.locator("input[name=password]").fill("not the password")
    page.locator("form[action='/sign-in'] button[type=submit]").click()
    check("/sign-in (refused)", by_tab=True)

    # An administrator opens every page; first the password change forced at first sign-in.
    name, one_time = demo_server.account("admin", locale=locale, chosen=False)
    demo_server.sign_in(page, name, one_time)
    assert page.url.endswith("/password")
    check("/password (first sign-in)", by_tab=True)
    page.locator("input[name=current]").fill(one_time)
    page.locator("input[name=new]").fill(CHOSEN)
    page.locator("input[name=confirm]").fill(CHOSEN)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/?done=password-changed")
    check("/ (password changed)")

    for path in ("/password", "/language", "/no-such-page"):
        page.goto(base + path)
        check(path, by_tab=True)
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
            check(detail, by_tab=True)  # a detail page may hold forms: a duplicate pair's
    # The forms that write, which no menu entry leads to directly.
    page.goto(base + "/sites")
    site = links(page, "main a[href$='/manage']")[0]
    for path in ("/sites/new", site):
        page.goto(base + path)
        check(path, by_tab=True)
    page.locator("#capacity").fill("-5")
    page.locator("form[action$='/capacity'] button[type=submit]").click()
    assert page.locator(".error-summary").is_visible()
    check(site + " (refused)", by_tab=True)
    screening = screening_pages(page, base)
    assert screening is not None, "the demo has men waiting for a security interview"
    for path in screening:
        page.goto(base + path)
        check(path, by_tab=True)
    page.locator("#outcome").select_option("held")
    page.locator("form[action$='/steps'] button[type=submit]").click()
    assert page.locator("#order_reference-error").is_visible()
    check(screening[1] + " (refused)", by_tab=True)
    # A person's page with its correction and departure forms, and a refused correction.
    person = screening[1].split("?")[0].removeprefix("/screening")
    page.goto(base + person)
    check(person, by_tab=True)
    page.locator("#field").select_option("date_of_birth")
    page.locator("#value").fill("someday")
    page.locator("form[action$='/corrections'] button[type=submit]").click()
    assert page.locator("#value-error").is_visible()
    check(person + " (refused)", by_tab=True)
    # The registration grid at a site, and a truckload refused on its row.
    page.goto(base + "/register")
    code = page.locator("#site option").nth(1).get_attribute("value")
    page.goto(f"{base}/register?site={code}")
    check("/register?site=", by_tab=True)
    page.locator("#r0-given_name").fill("Amina")
    page.locator("#save").click()
    assert page.locator(".error-summary").is_visible()
    check("/register (refused)", by_tab=True)
    # Planning a transfer from a site's roster, and a plan refused at the typed numbers.
    page.goto(f"{base}/transfers/new?origin={code}")
    check("/transfers/new?origin=", by_tab=True)
    page.locator("#numbers").fill("NOBODY-0000")
    page.locator("main form[method=post] button[type=submit]").last.click()
    assert page.locator(".error-summary").is_visible()
    check("/transfers/new (refused)", by_tab=True)
    # An administrator's forms: creating an account, refused without a role or sites, and
    # the API tokens with theirs (reached as a tab of the accounts page, checked by Tab).
    for path in ("/accounts/new", "/accounts/tokens"):
        page.goto(base + path)
        check(path, by_tab=True)
    page.goto(base + "/accounts/new")
    page.locator("#name").fill("Amina Haroun")
    page.locator("main form button[type=submit]").click()
    assert page.locator("#role-error").is_visible()
    check("/accounts/new (refused)", by_tab=True)
    context.close()

    assert not faults, "\n".join(faults)
    assert len(checked) >= 7 + len(PAGES)
    # The demo's transfers are all reconciled: a manifest is reached through the tabs.
    assert "/transfers?view=reconciled" in checked
    assert any(where.startswith("/transfers/") for where in checked)
