"""The audit and duplicates pages in Chromium on a small demo operation: the chain
verified while the page watches, the audit log, the likely duplicates; in English and in
Arabic, right to left."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from campledger.api.database import library_env
from campledger.api.services.accounts import AccountPolicy, create_account, store_password
from campledger.api.services.demo import load_demo
from campledger.api.services.passwords import hash_password
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from tests.reliability.support import Server, as_url

PASSWORD = "a long walk to the well"
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[Server]:
    registry = Registry(env=library_env(as_url(database_url)))
    try:
        load_demo(registry, trucks=2, truck_size=80)
    finally:
        registry.close()
    with Projector(database_url) as projector:
        projector.catch_up()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name, role, locale in (("Kaltouma Adoum", "auditor", "en"),
                                   ("Zara Abdelkerim", "auditor", "ar")):  # fmt: skip
            issued = create_account(
                conn, name=name, role=role, locale=locale,
                now=datetime.now(UTC), policy=AccountPolicy(),
            )  # fmt: skip
            store_password(conn, issued.account.account_id, hash_password(PASSWORD), chosen=True)
    running = Server(database_url, tmp_path / "server", projector=False)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def sign_in(page: Page, server: Server, name: str) -> None:
    page.goto(server.base_url + "/sign-in")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(server.base_url + "/")


def test_an_auditor_verifies_the_chain_reads_the_log_and_the_duplicates(
    browser: Browser, demo: Server, screenshots: Path
) -> None:
    for name, locale, intact in (
        ("Kaltouma Adoum", "en", "The chain is intact."),
        ("Zara Abdelkerim", "ar", "السلسلة سليمة."),
    ):
        page = browser.new_page(viewport=LAPTOP)
        sign_in(page, demo, name)
        page.goto(demo.base_url + "/audit")
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")
        page.locator("#verify-run button[type=submit]").click()
        # htmx swaps the progress in and polls it until the report replaces it.
        expect(page.locator("#verify-run")).to_contain_text(intact, timeout=30_000)
        page.screenshot(path=str(screenshots / f"audit-{locale}.png"), full_page=True)
        page.goto(demo.base_url + "/audit/log")
        expect(page.locator("table.table")).to_be_visible()
        page.screenshot(path=str(screenshots / f"audit-log-{locale}.png"))
        page.goto(demo.base_url + "/duplicates")
        expect(page.locator("table.table tbody tr").first).to_be_visible()
        page.screenshot(path=str(screenshots / f"duplicates-{locale}.png"), full_page=True)
        page.close()
