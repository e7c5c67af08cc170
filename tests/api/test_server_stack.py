"""The server's HTTP parser and event loop (``CAMPLEDGER_HTTP``, ``CAMPLEDGER_LOOP``) reach
uvicorn however ``campledger serve`` starts it, one worker or several; a value uvicorn
does not take, or a library that is not installed, is refused at start with exit 78 and
one line naming the setting, before the database or uvicorn start."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from campledger.api import settings as settings_module
from campledger.api.cli import serve
from campledger.api.cli.main import app as cli
from campledger.api.cli.shared import CONFIGURATION_REFUSED
from campledger.api.http import app as http_app
from campledger.api.settings import PREFIX

runner = CliRunner()
URL = "postgresql://campledger@db.invalid:5432/operation"


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """``campledger serve`` with the database and uvicorn replaced: yields the keyword
    arguments of each ``uvicorn.run`` call (the app as ``app``)."""
    for name in list(os.environ):
        if name.upper().startswith(PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env but the test's own
    monkeypatch.setenv("CAMPLEDGER_DATA_DIR", str(tmp_path / "data"))
    # serve writes these two for its workers: set here, so that they are undone after.
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", URL)
    monkeypatch.setenv("CAMPLEDGER_LOG_LEVEL", "INFO")
    calls: list[dict[str, Any]] = []

    @contextmanager
    def backend(_settings: object) -> Iterator[SimpleNamespace]:
        yield SimpleNamespace(database_url=URL)

    def run(app: object, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    monkeypatch.setattr(serve, "open_backend", backend)
    monkeypatch.setattr(http_app, "create_app", lambda backend, run_projector: "the app")
    monkeypatch.setattr(uvicorn, "run", run)
    yield calls


@pytest.mark.parametrize("workers", [1, 2])
def test_the_chosen_parser_and_loop_reach_uvicorn(
    workers: int, runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPLEDGER_HTTP", "H11")  # any case, as the other settings
    monkeypatch.setenv("CAMPLEDGER_LOOP", "asyncio")
    result = runner.invoke(cli, ["serve", "--no-projector", "--workers", str(workers)])
    assert result.exit_code == 0, result.output
    [call] = runs
    assert (call["http"], call["loop"]) == ("h11", "asyncio")
    if workers == 1:
        assert call["app"] == "the app"
    else:  # uvicorn's supervisor starts each worker with the same configuration
        assert call["app"] == "campledger.api.http.server:app_from_environment"
        assert call["workers"] == workers


def test_by_default_uvicorn_takes_what_is_installed(runs: list[dict[str, Any]]) -> None:
    result = runner.invoke(cli, ["serve", "--no-projector"])
    assert result.exit_code == 0, result.output
    [call] = runs
    assert (call["http"], call["loop"]) == ("auto", "auto")


def test_a_parser_uvicorn_does_not_have_is_refused_before_anything_starts(
    runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPLEDGER_HTTP", "h2")
    result = runner.invoke(cli, ["serve", "--no-projector"])
    assert result.exit_code == CONFIGURATION_REFUSED
    assert result.stderr == (
        "campledger: invalid setting CAMPLEDGER_HTTP: "
        "Input should be 'auto', 'h11' or 'httptools'\n"
    )
    assert runs == []


def test_a_loop_that_is_not_installed_is_refused_with_the_fix(
    runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "_installed", lambda module: module != "uvloop")
    monkeypatch.setenv("CAMPLEDGER_LOOP", "uvloop")
    result = runner.invoke(cli, ["serve", "--no-projector"])
    assert result.exit_code == CONFIGURATION_REFUSED
    assert result.stderr == (
        "campledger: invalid setting CAMPLEDGER_LOOP: Value error, uvloop is not installed "
        "(pip install uvloop), use auto instead\n"
    )
    assert runs == []
