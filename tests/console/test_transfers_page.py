"""Transfers in the console: on the road, unaccounted for, planned and reconciled, and
each manifest; the API's reads under the API's rules (site scope, no names)."""

from __future__ import annotations

import re
from uuid import UUID

import pytest

from tests.api.conftest import SETUP_ACTOR
from tests.console import test_people_pages
from tests.console.test_people_pages import World, signed_in

# The same fixture: the API with its projector and the console, on one database.
world = test_people_pages.world


def transfer_links(html: str) -> list[str]:
    return re.findall(r'href="/transfers/([0-9a-f-]{36})"', html)


def reconciled_one_short(world: World, origin: str, destination: str) -> tuple[UUID, UUID]:
    """A transfer of three received but one, then reconciled: (transfer, the missing one)."""
    transfer = world.api.dispatched_transfer(origin, destination, count=3)
    *arrived, missing = world.api.manifest(transfer)
    registry = world.api.registry
    registry.receive_transfer(
        transfer_id=transfer, site_code=destination, persons=arrived, actor=SETUP_ACTOR
    )
    registry.reconcile_transfer(transfer_id=transfer, actor=SETUP_ACTOR)
    return transfer, missing


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("transfer_officer", True), ("site_manager", True), ("registrar", False), ("screener", False)],
)
def test_the_transfers_page_is_for_roles_that_may_read_transfers(
    world: World, role: str, allowed: bool
) -> None:
    browser, _ = signed_in(world, role)
    assert ('href="/transfers"' in browser.get("/").text) is allowed
    assert browser.get("/transfers").status_code == (200 if allowed else 403)
    transfer = world.api.planned_transfer(world.api.open_site(), world.api.open_site())
    world.api.wait()
    assert browser.get(f"/transfers/{transfer}").status_code == (200 if allowed else 403)


def test_each_view_lists_the_transfers_in_that_state(world: World) -> None:
    origin, destination = world.api.open_site(), world.api.open_site()
    planned = world.api.planned_transfer(origin, destination)
    on_the_road = world.api.dispatched_transfer(origin, destination, count=2)
    reconciled, missing = reconciled_one_short(world, origin, destination)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [origin])

    def listed(view: str) -> str:
        response = browser.get("/transfers", params={"view": view})
        assert response.status_code == 200
        return response.text

    assert transfer_links(listed("in_transit")) == [str(on_the_road)]
    # Without an order reference a transfer is called by the start of its id, never "".
    named = f'<a href="/transfers/{on_the_road}"><bdi>{str(on_the_road)[:8]}</bdi></a>'
    assert named in listed("in_transit")
    page = browser.get(f"/transfers/{on_the_road}").text
    assert f"<h1>Transfer {str(on_the_road)[:8]}</h1>" in page
    assert transfer_links(listed("planned")) == [str(planned)]
    assert transfer_links(listed("reconciled")) == [str(reconciled)]
    unaccounted = listed("unaccounted")
    assert f"/persons/{missing}" in unaccounted and transfer_links(unaccounted) == [str(reconciled)]
    # The default view is what is on the road now.
    assert transfer_links(browser.get("/transfers").text) == [str(on_the_road)]
    assert browser.get("/transfers", params={"view": "everything"}).status_code == 404


def test_a_manifest_shows_who_arrived_who_is_missing_and_who_travels_in_custody(
    world: World,
) -> None:
    origin, destination = world.api.open_site(), world.api.open_site()
    transfer, missing = reconciled_one_short(world, origin, destination)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [destination])
    page = browser.get(f"/transfers/{transfer}").text
    found = world.api.client.get(f"/api/v1/transfers/{transfer}", headers=world.api.auth("auditor"))
    manifest = found.json()["manifest"]
    # In manifest order, each by registration number, as the API lists them.
    assert re.findall(r'href="/persons/([0-9a-f-]{36})"', page) == [
        line["person_id"] for line in manifest
    ]
    for line in manifest:
        assert line["registration_number"] in page
    assert page.count("Received</span>") == 2 and page.count("Unaccounted for</span>") == 1
    missing_line = page.split(f"/persons/{missing}")[1].split("</tr>")[0]
    assert "Unaccounted for</span>" in missing_line
    # No names on a manifest: transfer officers check people in by number.
    assert "Haroun" not in page and "Amina" not in page


def test_a_scoped_account_sees_only_transfers_from_or_to_its_sites(world: World) -> None:
    home, other, far = world.api.open_site(), world.api.open_site(), world.api.open_site()
    ours = world.api.dispatched_transfer(other, home)
    theirs = world.api.dispatched_transfer(other, far)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [home])
    assert transfer_links(browser.get("/transfers").text) == [str(ours)]
    assert browser.get(f"/transfers/{theirs}").status_code == 403
    assert browser.get("/transfers", params={"site": far}).status_code == 403
    assert browser.get(f"/transfers/{UUID(int=7)}").status_code == 404
    assert browser.get("/transfers/not-a-transfer").status_code == 400


def test_the_lists_page_on_and_keep_the_site(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from campledger.api.console import transfers

    monkeypatch.setattr(transfers, "PAGE_SIZE", 2)
    origin, destination = world.api.open_site(), world.api.open_site()
    made = [world.api.planned_transfer(origin, destination) for _ in range(3)]
    world.api.wait()
    browser, _ = signed_in(world, "site_manager", [origin])
    first = browser.get("/transfers", params={"view": "planned", "site": origin}).text
    following = re.search(r'href="/transfers\?([^"]+)">', first.split("Next page")[0][-400:])
    assert following, "a link to the next page"
    query = following.group(1).replace("&amp;", "&")
    assert f"site={origin}" in query and "view=planned" in query
    second = browser.get("/transfers?" + query).text
    # Latest first, and every transfer exactly once across the pages.
    assert transfer_links(first) + transfer_links(second) == [str(t) for t in reversed(made)]


def test_the_transfers_page_in_arabic(world: World) -> None:
    origin, destination = world.api.open_site(), world.api.open_site()
    transfer = world.api.dispatched_transfer(origin, destination)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", locale="ar")
    page = browser.get("/transfers").text
    assert 'dir="rtl"' in page and "عمليات النقل" in page
    detail = browser.get(f"/transfers/{transfer}").text
    # The arrow points the way the page reads: from the origin to the destination.
    assert 'dir="rtl"' in detail
    assert f"<bdi>{origin}</bdi> ← <bdi>{destination}</bdi>" in detail
    english, _ = signed_in(world, "transfer_officer")
    assert (
        f"<bdi>{origin}</bdi> → <bdi>{destination}</bdi>"
        in english.get(f"/transfers/{transfer}").text
    )
