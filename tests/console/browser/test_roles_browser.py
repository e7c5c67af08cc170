"""A role signed in through the browser is offered exactly the pages of ``PAGES`` its
permissions allow: the others are absent from the navigation and refused when their
address is typed. Built from ``PAGES`` and the role table, so a page added later, or a
permission moved, is checked without touching this file.

Two roles here, at the two ends of the table (the transfer officer with the fewest pages,
the site manager with most but not all); every role, through the ASGI app, in
``tests/console/test_roles.py``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from campledger.api.console.pages import PAGES
from campledger.api.services.auth import PERMISSIONS, Role
from tests.console.browser.conftest import TABLET, DemoServer


@pytest.mark.parametrize("role", [Role.TRANSFER_OFFICER, Role.SITE_MANAGER], ids=str)
def test_the_navigation_lists_exactly_the_pages_the_role_may_open(
    browser: Browser, demo_server: DemoServer, role: Role
) -> None:
    allowed = [page.path for page in PAGES if page.permission in PERMISSIONS[role]]
    refused = [page.path for page in PAGES if page.path not in allowed]
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    demo_server.sign_in(page, *demo_server.account(role.value))

    listed = page.locator("nav.nav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert listed == ["/", *allowed]

    for path in allowed:
        response = page.goto(demo_server.base_url + path)
        assert response is not None and response.status == 200, path
    for path in refused:
        response = page.goto(demo_server.base_url + path)
        assert response is not None and response.status == 403, path
        # The refusal is a page of the console, not a bare status: the reader is told why.
        assert page.locator("h1").inner_text() == "You may not open this page"
    context.close()
