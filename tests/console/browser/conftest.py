"""The console in a real browser: Debian's chromium driven by Playwright, against
``campledger serve`` running as a process on a loopback port.

Playwright's own browser downloads are impossible here (and a browser fetched at test
time is not one a field laptop runs): it launches the system's Chromium by path. The
pinned Playwright release bundles the same major version (``pyproject.toml``). When the
browser is missing the tests skip, saying what to install, except under ``CI=true``,
where they fail: CI must not pass without having looked at a page.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

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
