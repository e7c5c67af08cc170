"""The audit pages: who may open them, the chain verified in the background with its
progress, the digest, the audit log with its filters and CSV, and the access trail."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from campledger.api.console.app import ConsoleMount
from campledger.api.services.access_trail import record_access
from campledger.api.services.verification import Verifier
from campledger.projections.engine import Projector
from campledger.projections.ledger import current_digest
from campledger.projections.verify import VerifyReport
from tests.console.conftest import Console
from tests.projections.lifecycle import Lifecycle, full_lifecycle


@pytest.fixture(scope="module")
def lifecycle(console: Console, console_database_url: str) -> Lifecycle:
    """A log that went through a whole lifecycle, projected."""
    found = full_lifecycle(console.app.state.backend.registry)
    with Projector(console_database_url) as projector:
        projector.catch_up()
    return found


@pytest.fixture
def audited(console: Console, lifecycle: Lifecycle) -> Iterator[Console]:
    yield console
    shared = _shared_verifier(console)
    if shared is not None:
        shared.wait(30)


def _shared_verifier(console: Console) -> Verifier | None:
    """The verifier the console's pages share (made at the first audit page served)."""
    mount = next(route for route in console.app.routes if isinstance(route, ConsoleMount))
    found: Verifier | None = getattr(mount.app.state, "verifier", None)
    return found


def test_only_unscoped_auditors_and_admins_open_the_audit_pages(audited: Console) -> None:
    for role, sites, opens, listed in (
        ("auditor", (), True, True),
        ("admin", (), True, True),
        # The audit reads span every site and cannot be narrowed, as over the API.
        ("auditor", ("RC-1",), False, True),
        ("site_manager", ("RC-1",), False, False),
        ("registrar", (), False, False),
    ):
        browser = audited.signed_in(role, sites)
        assert ('href="/audit"' in browser.get("/").text) is listed, role
        for path in ("/audit", "/audit/log", "/audit/log.csv", "/audit/access-trail",
                     "/audit/verify"):  # fmt: skip
            assert browser.get(path).status_code == (200 if opens else 403), (role, path)


def test_the_chain_is_verified_in_the_background_and_the_page_shows_the_result(
    audited: Console,
) -> None:
    browser = audited.signed_in("auditor")
    page = browser.get("/audit")
    assert "Current digest" in page.text and "Verify the chain" in page.text
    started = browser.post(
        "/audit/verify", {"csrf_token": browser.csrf()}, headers={"HX-Request": "true"}
    )
    assert started.status_code == 200 and 'id="verify-run"' in started.text
    shared = _shared_verifier(audited)
    assert shared is not None
    state = shared.wait(60)
    assert state.report is not None and state.report.ok and state.report.events > 10
    fragment = browser.get("/audit/verify")
    assert "The chain is intact." in fragment.text
    assert f"{state.report.events} events checked" in fragment.text
    assert "hx-trigger" not in fragment.text  # done: the page stops asking


def test_without_javascript_the_button_starts_it_and_comes_back_to_the_page(
    audited: Console,
) -> None:
    browser = audited.signed_in("admin")
    browser.get("/audit")
    answer = browser.submit("/audit/verify")
    assert answer.status_code == 303 and answer.headers["location"] == "/audit#verification"


def test_a_running_verification_shows_its_progress_one_run_at_a_time(
    audited: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = audited.signed_in("auditor")
    browser.get("/audit")
    shared = _shared_verifier(audited)
    assert shared is not None
    shared.wait(30)
    release = threading.Event()

    def slow(url: str, progress: Any = None) -> VerifyReport:
        # A log long enough to watch, without writing one: halfway, then a break.
        progress(40_000, 40_000, 100_000)
        release.wait(10)
        return VerifyReport(False, 41, 100, 100, "00", 1.0, broken_at=42, problem="digest mismatch")

    monkeypatch.setattr(shared, "_verify", slow)
    try:
        assert browser.submit("/audit/verify").status_code == 303
        assert not shared.start("someone else")  # the running one goes on
        for _ in range(100):
            if shared.state.events:
                break
            time.sleep(0.05)
        running = browser.get("/audit/verify").text
        assert 'hx-trigger="every 1s"' in running and 'value="40"' in running
        assert "40,000 events checked, up to position 40,000 of 100,000" in running
        release.set()
        shared.wait(10)
        done = browser.get("/audit").text
        assert "The chain is broken at position 42." in done and "digest mismatch" in done
    finally:
        release.set()
        shared.wait(10)


def test_the_digest_is_the_ledgers_latest_link(audited: Console) -> None:
    browser = audited.signed_in("auditor")
    digest = current_digest(audited.conn)
    assert digest is not None
    assert digest.hex in browser.get("/audit").text


def test_the_audit_log_filters_pages_and_downloads_as_csv(audited: Console) -> None:
    browser = audited.signed_in("auditor")
    everything = browser.get("/audit/log").text
    assert shown("person.registered", everything) and shown("site.opened", everything)
    merged = browser.get("/audit/log", params={"action": "person.merged_into"}).text
    assert shown("person.merged_into", merged) and not shown("person.registered", merged)
    assert "audit/log.csv?action=person.merged_into" in merged
    download = browser.get("/audit/log.csv", params={"action": "person.registered"})
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 5 and {row["action"] for row in rows} == {"person.registered"}
    nobody = browser.get("/audit/log", params={"actor": "nobody-at-all"}).text
    assert "No entry matches these filters." in nobody
    assert browser.get("/audit/log", params={"subject_id": "not-an-id"}).status_code == 400


def shown(action: str, page: str) -> bool:
    return f'<code dir="ltr">{action}</code>' in page


def test_the_audit_log_pages_with_htmx(audited: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("campledger.api.console.audit.PAGE_SIZE", 3)
    browser = audited.signed_in("auditor")
    first = browser.get("/audit/log").text
    assert "More entries" in first and "cursor=" in first
    link = first.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    more = browser.get(link, headers={"HX-Request": "true"})
    assert more.status_code == 200 and "<html" not in more.text and "<tr>" in more.text


def test_the_access_trail_lists_who_was_shown_whose_data(
    audited: Console, lifecycle: Lifecycle
) -> None:
    record_access(audited.conn, "registrar-x", lifecycle.child, "GET /persons/{id}")
    browser = audited.signed_in("auditor")
    page = browser.get("/audit/access-trail", params={"actor": "registrar-x"}).text
    assert str(lifecycle.child) in page and "GET /persons/{id}" in page
    assert "registrar-x" in page
    other = browser.get("/audit/access-trail", params={"actor": "someone-else"}).text
    assert str(lifecycle.child) not in other


def test_the_audit_pages_in_arabic(audited: Console) -> None:
    browser = audited.signed_in("auditor", locale="ar")
    for path in ("/audit", "/audit/log", "/audit/access-trail"):
        page = browser.get(path).text
        assert 'dir="rtl"' in page
    assert "التدقيق" in browser.get("/audit").text
