"""The console in a real browser: Debian's chromium driven by Playwright, against
``campledger serve`` running as a process on a loopback port.

Playwright's own browser downloads are impossible here (and a browser fetched at test
time is not one a field laptop runs): it launches the system's Chromium by path. The
pinned Playwright release bundles the same major version (``pyproject.toml``). When the
browser is missing the tests skip, saying what to install, except under ``CI=true``,
where they fail: CI must not pass without having looked at a page.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from campledger.api.database import library_env
from campledger.api.services.accounts import AccountPolicy, create_account
from campledger.api.services.demo import load_demo
from campledger.api.services.sign_in import change_password
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from tests.conftest import new_database
from tests.reliability.support import Server

CHROMIUM = Path(os.environ.get("CAMPLEDGER_CHROMIUM", "/usr/bin/chromium"))
# Where screenshots go: a folder of the developer's choosing, else the test's own.
SCREENSHOTS = os.environ.get("CAMPLEDGER_SCREENSHOTS")


def chromium_major() -> int | None:
    try:
        shown = subprocess.run(
            [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)\.\d+\.\d+\.\d+", shown)
    return int(found.group(1)) if found else None


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        message = (
            f"no browser at {CHROMIUM}: install Debian's chromium (`apt-get install chromium`; "
            "`make test` does it when run as root)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(database_url, tmp_path / "server", projector=False)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- a small demo operation, served once per test session ---------------------------------

CHOSEN = "a long walk to the well"
TABLET = {"width": 1024, "height": 768}
POLICY = AccountPolicy()


@dataclass
class DemoServer:
    """``campledger serve`` on a database holding a small demo operation (read models
    caught up), and the means to give each test its own accounts on it."""

    server: Server
    database_url: str
    _serial: Iterator[int] = field(default_factory=itertools.count)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def account(
        self, role: str, sites: Sequence[str] = (), locale: str = "en", *, chosen: bool = True
    ) -> tuple[str, str]:
        """A new account's name and its password: one chosen, or the one-time one."""
        name = f"{role}-{locale}-{next(self._serial)}"
        now = datetime.now(UTC)
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            issued = create_account(
                conn, name=name, role=role, sites=sites, locale=locale, now=now, policy=POLICY
            )
            if not chosen:
                return name, issued.one_time_password
            change_password(
                conn, issued.account, current=issued.one_time_password, new=CHOSEN,
                now=now, policy=POLICY,
            )  # fmt: skip
        return name, CHOSEN

    def sign_in(self, page: Page, name: str, password: str) -> None:
        """Through the sign-in form, in whatever language the page shows it."""
        page.goto(self.base_url + "/sign-in")
        page.locator("input[name=name]").fill(name)
        page.locator("input[name=password]").fill(password)
        page.locator("form[action='/sign-in'] button[type=submit]").click()
        expect(page).not_to_have_url(re.compile(r"/sign-in"))


@pytest.fixture(scope="session")
def demo_server(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    with new_database(pg_server_url, "cl_console_demo") as name:
        params = conninfo_to_dict(pg_server_url)
        params["dbname"] = name
        url = make_conninfo(**{k: str(v) for k, v in params.items()})
        registry = Registry(env=library_env(url))
        try:
            load_demo(registry, trucks=2, truck_size=25)
        finally:
            registry.close()
        with Projector(url, READ_MODELS) as projector:
            projector.catch_up()
        running = Server(url, tmp_path_factory.mktemp("demo-server"), projector=False)
        running.start()
        try:
            yield DemoServer(running, url)
        finally:
            running.stop()
