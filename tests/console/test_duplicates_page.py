"""The likely-duplicates page: who may open it, the pairs a scope covers, names only for
roles that may see personal data, and every record shown on the access trail."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from campledger.api.services.auth import Permission, Principal, Role
from campledger.api.services.duplicates_read import with_names
from campledger.projections.engine import Projector
from tests.console.conftest import Console
from tests.projections.lifecycle import Lifecycle, full_lifecycle


@pytest.fixture(scope="module")
def lifecycle(console: Console, console_database_url: str) -> Lifecycle:
    """Registration only: R-002 and R-005 (Amina Haroun, male, about 30) are one pair."""
    found = full_lifecycle(console.app.state.backend.registry, until=1)
    with Projector(console_database_url) as projector:
        projector.catch_up()
    return found


def trail(conn: psycopg.Connection[Any], actor: str) -> list[tuple[Any, str]]:
    rows = conn.execute(
        "SELECT person_id, purpose FROM access_trail WHERE actor = %s ORDER BY id", (actor,)
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def test_who_may_open_the_duplicates_page(console: Console, lifecycle: Lifecycle) -> None:
    for role, opens in (("site_manager", True), ("auditor", True), ("admin", True),
                        ("registrar", False), ("screener", False),
                        ("transfer_officer", False)):  # fmt: skip
        browser = console.signed_in(role)
        assert ('href="/duplicates"' in browser.get("/").text) is opens, role
        assert browser.get("/duplicates").status_code == (200 if opens else 403), role


def test_pairs_with_score_reasons_and_names_put_on_the_access_trail(
    console: Console, lifecycle: Lifecycle
) -> None:
    browser = console.signed_in("site_manager", ["RC-1"])
    page = browser.get("/duplicates").text
    assert "R-002" in page and "R-005" in page and "Amina" in page
    assert "same sex" in page and "names alike" in page
    actor = page.split('class="account-menu__who">', 1)[1].split("<span>", 1)[1].split("<", 1)[0]
    assert sorted(trail(console.conn, actor)) == sorted(
        [(lifecycle.father, "console /duplicates"), (lifecycle.duplicate, "console /duplicates")]
    )


def test_a_scoped_reviewer_sees_only_pairs_its_sites_hold(
    console: Console, lifecycle: Lifecycle
) -> None:
    elsewhere = console.signed_in("site_manager", ["CAMP-1"])
    page = elsewhere.get("/duplicates").text
    assert "R-002" not in page and "No likely duplicate" in page
    assert elsewhere.get("/duplicates", params={"site": "RC-1"}).status_code == 403


def test_names_only_for_roles_that_may_see_personal_data(
    console: Console, lifecycle: Lifecycle
) -> None:
    pair = {"person_id": lifecycle.father, "other_id": lifecycle.duplicate}
    # No role with duplicates:read lacks persons:personal today; the rule holds if one does.
    without = Principal("t-1", "monitor-1", Role.MONITOR)
    assert not without.can(Permission.PERSONAL_DATA)
    assert with_names(console.conn, without, [pair], "console /duplicates") == [pair]
    assert trail(console.conn, "monitor-1") == []


def test_the_duplicates_page_in_arabic(console: Console, lifecycle: Lifecycle) -> None:
    page = console.signed_in("auditor", locale="ar").get("/duplicates").text
    assert 'dir="rtl"' in page and "السجلات المحتمل تكرارها" in page
