"""The folders install under the product's name, every package of them."""

from __future__ import annotations

import tomllib
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
