"""Fixtures for the audit tests: a Registry on a fresh database with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from tests.projections.lifecycle import NOW


@pytest.fixture
def registry(library_env: dict[str, str]) -> Iterator[Registry]:
    app = Registry(env=library_env, clock=lambda: NOW)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def admin(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection: what an attacker with the server's keys would hold."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection
