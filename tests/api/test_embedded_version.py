"""The embedded database's PostgreSQL major is pinned in code and checked against the data
folder before anything starts: a folder another major wrote is refused with how to move
its data across, instead of a server that cannot read it (or a library default that moved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.api.database.embedded import (
    EMBEDDED_POSTGRES_MAJOR,
    EmbeddedVersionMismatch,
    check_data_version,
)

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CAMPLEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("CAMPLEDGER_DATA_DIR", str(tmp_path))
    return tmp_path


def fake_folder(data_dir: Path, major: str) -> Path:
    pgdata = data_dir / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text(f"{major}\n")
    return pgdata


def test_an_older_major_is_refused_with_exit_78_and_the_upgrade_command(data_dir: Path) -> None:
    pgdata = fake_folder(data_dir, "16")
    result = runner.invoke(app, ["token", "list"])
    assert result.exit_code == ExitCode.CONFIG == 78, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("campledger: ") and "Traceback" not in result.stderr
    runs = (
        f"written by PostgreSQL 16, and this campledger runs PostgreSQL {EMBEDDED_POSTGRES_MAJOR}"
    )
    assert runs in result.stderr
    for hint in ("campledger db upgrade-embedded", "pg_upgrade", "docs/database.md"):
        assert hint in result.stderr, hint
    # Nothing was started: the folder is as it was.
    assert sorted(p.name for p in pgdata.iterdir()) == ["PG_VERSION"]


def test_a_newer_major_is_refused_with_the_dump_and_restore_path(data_dir: Path) -> None:
    fake_folder(data_dir, "19")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert result.stdout == ""
    assert "written by PostgreSQL 19" in result.stderr
    assert "pg_dump" in result.stderr and "upgrade-embedded" not in result.stderr


def test_a_new_folder_and_one_of_the_pinned_major_pass_the_check(tmp_path: Path) -> None:
    check_data_version(tmp_path / "pgdata")  # nothing there yet: initialised at start
    (tmp_path / "PG_VERSION").write_text(f"{EMBEDDED_POSTGRES_MAJOR}\n")
    check_data_version(tmp_path)
    (tmp_path / "PG_VERSION").write_text("not a version\n")
    with pytest.raises(EmbeddedVersionMismatch, match="PostgreSQL not a version"):
        check_data_version(tmp_path)


def test_upgrading_a_folder_already_at_the_pinned_major_does_nothing(data_dir: Path) -> None:
    fake_folder(data_dir, str(EMBEDDED_POSTGRES_MAJOR))
    result = runner.invoke(app, ["db", "upgrade-embedded"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.stdout
    assert "upgrading" in result.stderr
