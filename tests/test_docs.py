"""The README and the guides name files a newcomer will open: each must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ("domain", "projections", "api", "tests", "bench", "docs", ".ci")
# A path in backticks, optionally followed by ``:name`` or ``::test`` (a place in the file).
PATH = re.compile(r"`((?:" + "|".join(re.escape(t) for t in TOP) + r")/[\w./-]*)(?:[:`])")


def named_paths() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for guide in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in PATH.finditer(guide.read_text()):
            found.setdefault(match.group(1), []).append(guide.name)
    return found


def test_the_guides_name_files_that_exist() -> None:
    paths = named_paths()
    assert len(paths) > 40  # the guides were read
    missing = {path: guides for path, guides in paths.items() if not (ROOT / path).exists()}
    assert missing == {}


def test_the_readme_map_names_every_folder_of_the_product() -> None:
    readme = (ROOT / "README.md").read_text()
    the_map = readme[readme.index("## Where things are") :]
    the_map = the_map[: the_map.index("\n## ")]
    folders = {
        str(path.relative_to(ROOT))
        for top in ("domain", "projections", "api")
        for path in (ROOT / top).rglob("__init__.py")
        for path in [path.parent]
    }
    unnamed = sorted(folder for folder in folders if f"`{folder}/`" not in the_map)
    assert unnamed == []
