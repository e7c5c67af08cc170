"""The configuration fails closed: a ``CAMPLEDGER_*`` variable that is not a setting stops
every way in before anything starts (the command line, ``serve``, the composition root,
the workers' app factory), names the variable and the closest setting, and never shows a
value. The variables that belong to the tests and benchmarks pass. ``--version`` answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campledger.api import composition
from campledger.api.cli import serve
from campledger.api.cli.main import app as cli
from campledger.api.cli.shared import CONFIGURATION_REFUSED, load_settings
from campledger.api.composition import open_backend
from campledger.api.http.server import app_from_environment
from campledger.api.settings import NOT_SETTINGS, PREFIX, Settings, UnknownSettingError

ROOT = Path(__file__).resolve().parents[2]
CAMPLEDGER = Path(sys.executable).with_name("campledger")
runner = CliRunner()

SECRET = "s3cret-Pa55word"
# A password in a URL: what a misspelled database variable typically holds.
URL = f"postgresql://campledger:{SECRET}@db.example.org:5432/operation"
MISSPELLED = "CAMPLEDGER_DATABSE_URL"
REFUSED = (
    f"campledger: unknown setting {MISSPELLED} in the environment; "
    "did you mean CAMPLEDGER_DATABASE_URL?"
)


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No CAMPLEDGER_* variable but the test's own, no .env but the test's own, and a data
    folder of its own, so that whatever might start would show there."""
    for name in list(os.environ):
        if name.upper().startswith(PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("CAMPLEDGER_DATA_DIR", str(data))
    return data


@contextmanager
def nothing_may_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Replaces what opens the database; anything that reaches it is recorded."""
    started: list[str] = []

    @contextmanager
    def refuse(*_args: object, **_kwargs: object) -> Iterator[None]:
        started.append("database")
        raise AssertionError("the database was opened despite the configuration")
        yield

    monkeypatch.setattr(serve, "open_backend", refuse)
    monkeypatch.setattr(composition, "database", refuse)
    yield started


def test_serve_refuses_a_misspelled_variable_and_starts_nothing(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MISSPELLED, URL)
    with nothing_may_start(monkeypatch) as started:
        result = runner.invoke(cli, ["serve", "--no-projector"])
    assert result.exit_code == CONFIGURATION_REFUSED != 2  # 2 is a usage error
    assert result.stderr == REFUSED + "\n"  # one line, on stderr
    assert result.stdout == ""
    assert SECRET not in result.output and "db.example.org" not in result.output
    assert started == [] and not clean_environment.exists()


def test_the_command_line_process_exits_78_with_one_line_on_stderr(tmp_path: Path) -> None:
    """The installed command, as a supervisor sees it (db-url starts nothing either way)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(PREFIX)}
    env[MISSPELLED] = URL
    done = subprocess.run(
        [str(CAMPLEDGER), "db-url"], env=env, cwd=tmp_path, capture_output=True, timeout=120
    )
    assert done.returncode == CONFIGURATION_REFUSED
    assert done.stderr.decode() == REFUSED + "\n"
    assert done.stdout == b""
    assert SECRET.encode() not in done.stdout + done.stderr


def test_an_invalid_value_is_refused_the_same_way_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", f"mysql://campledger:{SECRET}@db/operation")
    with nothing_may_start(monkeypatch) as started:
        result = runner.invoke(cli, ["serve"])
    assert result.exit_code == CONFIGURATION_REFUSED
    assert result.stderr.startswith("campledger: invalid setting CAMPLEDGER_DATABASE_URL: ")
    assert len(result.stderr.splitlines()) == 1 and "postgresql://" in result.stderr
    assert SECRET not in result.output and "mysql" not in result.output
    assert started == []


def test_a_rebuild_in_no_process_at_all_is_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMPLEDGER_REBUILD_PROCESSES", "0")
    with nothing_may_start(monkeypatch) as started:
        result = runner.invoke(cli, ["rebuild"])
    assert result.exit_code == CONFIGURATION_REFUSED
    assert result.stderr.startswith("campledger: invalid setting CAMPLEDGER_REBUILD_PROCESSES: ")
    assert len(result.stderr.splitlines()) == 1 and "greater than or equal to 1" in result.stderr
    assert started == []


def test_every_unknown_variable_is_named_in_any_case_with_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pydantic-settings reads names in any case, so a lower-case misspelling counts too.
    monkeypatch.setenv("campledger_pool_sise", "3")
    monkeypatch.setenv("CAMPLEDGER_SESSION_IDLE_MINUTE", "3")
    monkeypatch.setenv("CAMPLEDGER_XYZZY", SECRET)
    with pytest.raises(UnknownSettingError) as refused:
        Settings()
    assert refused.value.problems == (
        "unknown setting CAMPLEDGER_SESSION_IDLE_MINUTE in the environment; "
        "did you mean CAMPLEDGER_SESSION_IDLE_MINUTES?",
        "unknown setting CAMPLEDGER_XYZZY in the environment; no known name is close to it",
        "unknown setting campledger_pool_sise in the environment; "
        "did you mean CAMPLEDGER_POOL_SIZE?",
    )
    assert SECRET not in str(refused.value)


def test_the_tests_and_benchmarks_variables_are_not_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in NOT_SETTINGS:
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("CAMPLEDGER_POOL_SIZE", "3")
    assert load_settings().pool_size == 3
    # And a setting misspelled beside them is still refused.
    monkeypatch.setenv("CAMPLEDGER_SOAK_SECOND", "1")
    with pytest.raises(UnknownSettingError, match="did you mean CAMPLEDGER_SOAK_SECONDS"):
        Settings()


def test_the_env_file_holds_settings_only(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    # Another program's variable beside ours is its business.
    env_file.write_text(f"CAMPLEDGER_POOL_SIZE=4\nOTHER_PROGRAM_URL={URL}\n")
    assert Settings().pool_size == 4
    env_file.write_text(
        f"CAMPLEDGER_POOL_SIZE=4\nCAMPLEDGER_DATABSE_URL={URL}\nCAMPLEDGER_SOAK_SECONDS=5\n"
    )
    with pytest.raises(UnknownSettingError) as refused:
        Settings()
    assert refused.value.problems == (
        "unknown setting CAMPLEDGER_DATABSE_URL in .env; did you mean CAMPLEDGER_DATABASE_URL?",
        # The tests read it from the environment: in .env it would do nothing at all.
        "unknown setting CAMPLEDGER_SOAK_SECONDS in .env; not a setting: read from the "
        "environment only, by tests/reliability (how long the soak runs)",
    )
    assert SECRET not in str(refused.value)


def test_the_composition_root_and_the_workers_refuse_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MISSPELLED, URL)
    with nothing_may_start(monkeypatch) as started:
        with pytest.raises(UnknownSettingError, match=MISSPELLED), open_backend():
            pass
        with pytest.raises(UnknownSettingError, match=MISSPELLED):
            app_from_environment()
    assert started == []


def test_version_prints_the_installed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == version("campledger") + "\n"
    # It reads no settings: it answers even where the configuration would be refused.
    monkeypatch.setenv(MISSPELLED, URL)
    assert runner.invoke(cli, ["--version"]).stdout == version("campledger") + "\n"


# Files where a CAMPLEDGER_* name can be set or read: code, make, CI, test configuration.
CODE = ("api", "bench", "domain", "projections", "tests")
NAME = re.compile(r"\b(CAMPLEDGER_[A-Z0-9_]+)\b")


def names_in_the_code() -> dict[str, set[str]]:
    files = [ROOT / "Makefile", ROOT / "pyproject.toml", *sorted((ROOT / ".ci").iterdir())]
    for top in CODE:
        files += sorted((ROOT / top).rglob("*.py")) + sorted((ROOT / top).rglob("*.toml"))
    found: dict[str, set[str]] = {}
    for path in files:
        if path == Path(__file__) or not path.is_file():
            continue  # this file names misspellings on purpose
        for name in NAME.findall(path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_variable_the_code_names_is_a_setting_or_listed_and_each_listed_is_used() -> None:
    found = names_in_the_code()
    settings = {PREFIX + name.upper() for name in Settings.model_fields}
    known = settings | set(NOT_SETTINGS)
    assert {name: where for name, where in found.items() if name not in known} == {}
    assert sorted(set(NOT_SETTINGS) - set(found)) == []
    assert not set(NOT_SETTINGS) & settings


def test_the_readme_lists_every_setting_and_every_other_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    section = section[: section.index("\n## ")]
    named = set(NAME.findall(section))
    settings = {PREFIX + name.upper() for name in Settings.model_fields}
    assert sorted(settings - named) == []
    assert sorted(set(NOT_SETTINGS) - named) == []
    assert f"{CONFIGURATION_REFUSED}" in section and "--version" in readme
