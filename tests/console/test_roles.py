"""Every role is offered exactly the pages of ``PAGES`` its permissions allow: the others
are absent from the navigation and refused when their address is typed. Built from
``PAGES`` and the role table, so a page added later, or a permission moved, is checked
without touching this file. (Two of the roles again in Chromium:
``tests/console/browser/test_roles_browser.py``.)"""

from __future__ import annotations

import re

import pytest

from campledger.api.console.pages import PAGES
from campledger.api.services.auth import PERMISSIONS, Role
from tests.console.conftest import Console

pytestmark = pytest.mark.postgres

NAVIGATION = re.compile(r'<nav class="nav"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'<a href="([^"]+)"')
# The people who use the console; monitor, a scraper's role (metrics only), is checked too.
STAFF = [role for role in Role if role is not Role.MONITOR]


def test_the_roles_checked_are_the_seven_of_the_field() -> None:
    assert {role.value for role in STAFF} == {
        "admin", "registrar", "screener", "transfer_officer", "site_manager", "auditor",
        "data_protection_officer",
    }  # fmt: skip


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_the_navigation_lists_exactly_the_pages_the_role_may_open(
    console: Console, role: Role
) -> None:
    allowed = [page.path for page in PAGES if page.permission in PERMISSIONS[role]]
    browser = console.signed_in(role.value)

    home = browser.get("/")
    assert home.status_code == 200
    navigation = NAVIGATION.search(home.text)
    assert navigation, "no navigation on the home page"
    assert HREF.findall(navigation.group(1)) == ["/", *allowed]

    for page in PAGES:
        response = browser.get(page.path)
        if page.path in allowed:
            assert response.status_code == 200, page.path
        else:
            assert response.status_code == 403, page.path
            assert "You may not open this page" in response.text
