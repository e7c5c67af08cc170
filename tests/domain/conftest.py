"""Domain fixtures: a Registry with in-memory storage on a fixed clock."""

from __future__ import annotations

import pytest

from campledger.domain.service.registry import Registry
from tests.domain.support import make_registry, open_site


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def sites(registry: Registry) -> Registry:
    """Given a reception centre RC-1, a second reception RC-2 and a camp CAMP-1."""
    open_site(registry, "RC-1")
    open_site(registry, "RC-2")
    open_site(registry, "CAMP-1", kind="camp")
    return registry
