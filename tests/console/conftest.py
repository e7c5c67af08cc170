"""Accounts on a real PostgreSQL: a fresh database per test, a clock moved by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from campledger.api.database.accounts import create_account_tables
from campledger.api.services.accounts import AccountPolicy
from tests.console.clock import Clock

POLICY = AccountPolicy()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        create_account_tables(connection)
        yield connection


@pytest.fixture
def clock() -> Clock:
    return Clock()
