"""The operation overview: who may open it, what a site-scoped account sees of the
operation, the figures per site, the charts drawn without script, and Arabic."""

from __future__ import annotations

import base64
import re

import pytest

from tests.console import test_people_pages
from tests.console.test_people_pages import World, signed_in

# The same fixture: the API with its projector and the console, on one database.
world = test_people_pages.world


def charts(html: str) -> list[str]:
    """The SVG of every chart on the page (each a ``data:`` image)."""
    found = re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    return [base64.b64decode(chart).decode() for chart in found]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("registrar", True),
        ("transfer_officer", True),
        ("site_manager", True),
        ("auditor", True),
        ("monitor", False),
    ],
)
def test_the_overview_is_for_roles_that_may_read_sites(
    world: World, role: str, allowed: bool
) -> None:
    browser, _ = signed_in(world, role)
    assert ('href="/overview"' in browser.get("/").text) is allowed
    assert browser.get("/overview").status_code == (200 if allowed else 403)


def test_a_site_scoped_account_sees_only_its_sites_figures(world: World) -> None:
    home, _ = world.site_with_people(3)
    elsewhere, _ = world.site_with_people(4)
    world.api.held_person(home)
    world.api.dispatched_transfer(elsewhere, home, count=2)
    world.api.wait()
    browser, name = signed_in(world, "site_manager", [home])

    page = browser.get("/overview").text
    assert f"/sites/{home}/roster" in page
    assert elsewhere not in page.replace(f"Site {home}", "")
    row = page[page.index(f"/sites/{home}/roster") :].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(?:<a href="[^"]*">)?([^<]*)', row)
    # people, capacity, held, in transit to it, unaccounted for, separated households
    assert cells == ["4", "100", "1", "2", "0", "0"]
    assert f'href="/households?site={home}"' not in row  # nothing to link to at zero
    # Counts only: nobody is named, so nothing goes on the access trail.
    assert "Haroun" not in page
    assert world.api.conn.execute(
        "SELECT count(*) FROM access_trail WHERE actor = %s", (name,)
    ).fetchone() == (0,)


def test_the_charts_are_svg_images_without_script_with_a_table_beside_them(world: World) -> None:
    code, _ = world.site_with_people(5)
    browser, _ = signed_in(world, "registrar", [code])

    page = browser.get("/overview").text
    drawn = charts(page)
    assert len(drawn) == 2  # the movement of the last 30 days, and the site's pyramid
    assert all(svg.startswith("<svg") for svg in drawn)
    assert "Arrivals" in drawn[0] and "Female" in drawn[1]
    assert "<script src" not in page.split("<main", 1)[1]
    # The same figures as a table, for screen readers and print.
    assert "The figures per day" in page
    assert re.search(r'<td class="num">5</td>', page)


def test_the_overview_in_arabic(world: World) -> None:
    code, _ = world.site_with_people(2)
    browser, _ = signed_in(world, "site_manager", [code], locale="ar")

    page = browser.get("/overview").text
    assert 'dir="rtl"' in page
    assert "نظرة عامة على العملية" in page
    assert "الوافدون" in charts(page)[0]
