"""The folders install under the product's name, every package of them."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "domain": "campledger.domain",
    "projections": "campledger.projections",
    "api": "campledger.api",
}


def test_every_package_folder_is_installed_under_campledger() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {name: folder for folder, name in FOLDERS.items()}
    on_disk = {
        ".".join((FOLDERS[init.relative_to(ROOT).parts[0]], *init.relative_to(ROOT).parts[1:-1]))
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk


def test_the_command_line_is_the_installed_module() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    module, _, attribute = project["scripts"]["campledger"].partition(":")
    assert module.startswith("campledger.api.")
    assert (ROOT / "api" / Path(*module.split(".")[2:])).with_suffix(".py").exists()
    assert attribute == "app"


def imported_distributions(folders: list[str]) -> dict[str, set[str]]:
    """The installed distributions whose modules the product's code imports, each with the
    files that import it (the standard library and campledger itself left out)."""
    import_names = packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for source in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top == "campledger":
                        continue
                    for distribution in import_names.get(top, [top]):
                        found.setdefault(canonical(distribution), set()).add(
                            str(source.relative_to(ROOT))
                        )
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {canonical(re.split(r"[\[=<>~! ;]", line, maxsplit=1)[0]) for line in requirements}


def test_every_package_the_product_imports_is_declared_and_pinned() -> None:
    """A library the code imports must be a dependency of its own, not one that another
    library happens to bring today (pydantic through fastapi, say)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dependencies = project["dependencies"]
    missing = {
        name: sorted(files)[:3]
        for name, files in imported_distributions(list(FOLDERS)).items()
        if name not in declared(dependencies)
    }
    assert missing == {}
    assert all("==" in line for line in dependencies), "every dependency pinned exactly"


def test_what_only_tests_and_benchmarks_use_is_a_development_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    product = imported_distributions(list(FOLDERS))
    for name in ("httpx", "pytest", "playwright", "hypothesis"):
        assert name not in product, name
        assert name not in declared(project["dependencies"]), name
        assert name in declared(project["optional-dependencies"]["dev"]), name


def locked() -> dict[str, str]:
    """requirements.lock's pins: name -> version."""
    text = (ROOT / "requirements.lock").read_text()
    return {
        canonical(name): version
        for name, version in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", text, re.M)
    }


def test_the_lock_file_pins_every_dependency_at_the_version_pyproject_pins() -> None:
    """`make venv` installs what requirements.lock lists, and nothing else: a dependency
    added to pyproject.toml or pinned anew there, and not in the lock, stops it ("run
    make lock"); this test says so first."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        name, _, version = re.split(r"[;\s]", line, maxsplit=1)[0].partition("==")
        pins[canonical(name.split("[")[0])] = version
    lock = locked()
    assert {name: lock.get(name) for name in pins} == pins, "run `make lock`"
    text = (ROOT / "requirements.lock").read_text()
    # Every pin with the hashes of its files, so that a lock-file install can check them.
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)


def test_a_new_virtualenv_installs_with_pinned_installers_and_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PIP_VERSION := \d+\.\d+", makefile, re.M)
    assert re.search(r"^SETUPTOOLS_VERSION := \d+\.\d+", makefile, re.M)
    assert "pip==$(PIP_VERSION) setuptools==$(SETUPTOOLS_VERSION)" in makefile
    assert "--require-hashes --no-deps -r $(LOCK)" in makefile
    assert "pip check" in makefile
    assert "$(STAMP): pyproject.toml $(LOCK)" in makefile
