"""What the security tests share beyond fixtures: their figures, and sizes from settings."""

from __future__ import annotations

import os
import re

import pytest

from tests.reliability.support import Figures

FIGURES_KEY = pytest.StashKey[Figures]()
FUZZ_VARIABLE = "CAMPLEDGER_FUZZ_EXAMPLES"
# A regular expression on "METHOD /path", to fuzz a few operations hard while fixing them.
FUZZ_ONLY_VARIABLE = "CAMPLEDGER_FUZZ_ONLY"


def fuzz_examples(default: int) -> int:
    """Examples per operation: ``default`` in CI, more when a longer fuzz run is asked for."""
    value = os.environ.get(FUZZ_VARIABLE, "").strip()
    return max(default, int(value)) if value else default


def fuzz_only() -> re.Pattern[str] | None:
    value = os.environ.get(FUZZ_ONLY_VARIABLE, "").strip()
    return re.compile(value) if value else None
