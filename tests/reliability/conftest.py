"""Reliability fixtures, and the figures every test measured in the suite's summary.

Pytest captures a passing test's output, so the figures (requests held, kills survived,
events checked) are also collected here and written by ``pytest_terminal_summary``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.support import FIGURES_KEY, Figures, Server, soaking


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Figures:
    stash = request.config.stash
    if FIGURES_KEY not in stash:
        stash[FIGURES_KEY] = Figures()
    return stash[FIGURES_KEY]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """``campledger serve`` with its live projector, on the test's fresh database."""
    found = Server(database_url, tmp_path / "serve")
    found.start()
    try:
        yield found
    finally:
        found.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = terminalreporter.config.stash.get(FIGURES_KEY, None)
    if found is None or not found.rows:
        return
    title = "reliability figures" + (" (soak)" if soaking() else "")
    terminalreporter.write_sep("=", title)
    for line in found.lines():
        terminalreporter.write_line(line)
