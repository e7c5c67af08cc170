"""``campledger serve --demo`` gives a new user a way into the console: one account per
role with a password printed at start and kept in the data directory, and the console's
address; a printed account signs in."""

from __future__ import annotations

import functools
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from campledger.api.cli import serve
from campledger.api.cli.main import app as cli
from campledger.api.services.auth import Role
from campledger.api.services.demo import load_demo
from campledger.api.services.demo_accounts import DEMO_ACCOUNTS_FILE, STAFF
from tests.console.conftest import CSRF
from tests.reliability.support import as_url


def sign_in(client: TestClient, name: str, password: str) -> str:
    """Sign in as a browser would; the home page it lands on."""
    form = client.get("/sign-in")
    token = CSRF.search(form.text)
    assert token, form.text
    answer = client.post(
        "/sign-in",
        data={"csrf_token": token.group(1), "name": name, "password": password, "next": "/"},
    )
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"]).text


def serve_demo(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, list[str]]:
    """``campledger serve --demo`` with a small demo operation, uvicorn replaced by a
    stand-in that signs in with every account the data directory's file names."""
    pages: list[str] = []

    def run(app: FastAPI | str, **_: Any) -> None:
        assert isinstance(app, FastAPI)
        data_dir = app.state.backend.settings.data_dir.expanduser()
        with TestClient(app, follow_redirects=False) as client:
            for line in (data_dir / DEMO_ACCOUNTS_FILE).read_text().splitlines():
                if line.startswith("#"):
                    continue
                _role, name, _sites, password = line.split("\t")
                client.cookies.clear()
                pages.append(sign_in(client, name, password))

    @contextmanager
    def no_projector(
        conninfo: str, log_level: str, log_format: str, master_key_file: object,
        rebuild_processes: int,
    ) -> Iterator[None]:  # fmt: skip
        yield

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(serve, "projector_process", no_projector)
    # Two trucks of thirty: the same operation, small enough to load in a few seconds.
    monkeypatch.setattr(serve, "load_demo", functools.partial(load_demo, trucks=2, truck_size=30))
    result = CliRunner().invoke(cli, ["serve", "--demo", *args], env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output, pages


@pytest.fixture
def data_dir(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url(database_url))
    monkeypatch.setenv("CAMPLEDGER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_every_printed_demo_account_signs_in_to_the_console(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, homes = serve_demo(monkeypatch, "--port", "8123")
    assert "point a browser at http://127.0.0.1:8123/" in output
    assert {member.role for member in STAFF} == set(Role) - {Role.MONITOR}
    kept = (data_dir / DEMO_ACCOUNTS_FILE).read_text()
    assert "DEMO ONLY" in output and "DEMO ONLY" in kept
    assert stat.S_IMODE((data_dir / DEMO_ACCOUNTS_FILE).stat().st_mode) == 0o600
    accounts = [line.split("\t") for line in kept.splitlines() if not line.startswith("#")]
    assert len(accounts) == len(STAFF) == len(homes)
    for (role, name, _sites, password), home in zip(accounts, homes, strict=True):
        # The account the file names is the one printed, password and all.
        assert name in output and password in output and role in output
        assert f"Welcome, {name}" in home, home
    registrar = homes[[a[0] for a in accounts].index("registrar")]
    assert "ADR-RC" in registrar and "All sites" not in registrar
    auditor = homes[[a[0] for a in accounts].index("auditor")]
    assert 'href="/audit"' in auditor and "All sites" in auditor


def test_a_second_start_gives_new_passwords_and_the_old_ones_stop_working(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_demo(monkeypatch)
    first = (data_dir / DEMO_ACCOUNTS_FILE).read_text()
    output, homes = serve_demo(monkeypatch)
    assert "demo operation already loaded" in output
    second = (data_dir / DEMO_ACCOUNTS_FILE).read_text()
    old = {line.split("\t")[3] for line in first.splitlines() if not line.startswith("#")}
    new = {line.split("\t")[3] for line in second.splitlines() if not line.startswith("#")}
    assert not old & new and len(homes) == len(STAFF)
