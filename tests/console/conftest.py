"""Accounts on a real PostgreSQL, and the console through the ASGI app with a real client.

Service tests get a fresh database per test (``conn``); console tests share one app and
database per module (``console``) and make fresh accounts for each case. The clock is
moved by hand, never slept on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from campledger.api.composition import Backend
from campledger.api.console.app import ConsoleMount
from campledger.api.console.context import ConsoleContext
from campledger.api.database import library_env
from campledger.api.database.accounts import create_account_tables
from campledger.api.http.app import create_app
from campledger.api.services.accounts import AccountPolicy, create_account
from campledger.api.services.sign_in import change_password
from campledger.api.settings import Settings
from campledger.domain.service.registry import Registry
from tests.conftest import new_database
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


# --- the console through the ASGI app ---------------------------------------------------


@pytest.fixture(scope="module")
def console_database_url(pg_server_url: str) -> Iterator[str]:
    """A database of the module's own (as tests/api/conftest.py's ``api_database_url``)."""
    with new_database(pg_server_url, "cl_console") as name:
        yield urlunsplit(urlsplit(pg_server_url)._replace(path=f"/{name}"))


@dataclass
class Browser:
    """One browser: its own cookie jar, on the shared app."""

    client: TestClient
    page: httpx.Response | None = None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        self.page = self.client.get(path, **kwargs)
        return self.page

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        self.page = self.client.post(path, data=data or {}, **kwargs)
        return self.page

    def csrf(self) -> str:
        """The CSRF token of the forms on the last page shown."""
        assert self.page is not None
        found = CSRF.search(self.page.text)
        assert found, "the page has no form with a CSRF token"
        return found.group(1)

    def submit(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """Send a form of the last page shown, with its CSRF token, as a browser would."""
        return self.post(path, {"csrf_token": self.csrf(), **(data or {})})

    def sign_in(self, name: str, password: str, next: str = "/") -> httpx.Response:
        self.get(f"/sign-in?next={next}")
        return self.submit("/sign-in", {"name": name, "password": password, "next": next})


@dataclass
class Console:
    """The API application with the console mounted, and the means to arrange accounts."""

    app: FastAPI
    conn: psycopg.Connection[Any]
    clock: Clock
    # The event loop the application was started in (its lifespan's): every browser's
    # requests run there, as under a server, so that what the lifespan started (the
    # projection watch a form waits on) serves them.
    portal: Any = None
    _serial: Iterator[int] = field(default_factory=itertools.count)

    def browser(self, base_url: str = "http://testserver") -> Browser:
        client = TestClient(self.app, base_url=base_url, follow_redirects=False)
        client.portal = self.portal
        return Browser(client)

    def account(
        self,
        role: str = "registrar",
        sites: Sequence[str] = (),
        locale: str = "en",
        *,
        chosen: bool = True,
    ) -> tuple[str, str]:
        """A new account's name and password: one the person chose, or the one-time one."""
        name = f"{role}-{next(self._serial)}"
        issued = create_account(
            self.conn, name=name, role=role, sites=sites, locale=locale,
            now=self.clock(), policy=POLICY,
        )  # fmt: skip
        if not chosen:
            return name, issued.one_time_password
        change_password(
            self.conn, issued.account, current=issued.one_time_password, new=CHOSEN,
            now=self.clock(), policy=POLICY,
        )  # fmt: skip
        return name, CHOSEN

    def signed_in(
        self, role: str = "registrar", sites: Sequence[str] = (), locale: str = "en"
    ) -> Browser:
        browser = self.browser()
        response = browser.sign_in(*self.account(role, sites, locale))
        assert response.status_code == 303, response.text
        return browser


CHOSEN = "a long walk to the well"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_context(app: FastAPI) -> ConsoleContext:
    mount = next(route for route in app.routes if isinstance(route, ConsoleMount))
    context: ConsoleContext = mount.app.state.console  # type: ignore[attr-defined]
    return context


@pytest.fixture(scope="module")
def console(console_database_url: str) -> Iterator[Console]:
    registry = Registry(env=library_env(console_database_url))
    backend = Backend(Settings(database_url=console_database_url), console_database_url, registry)
    app = create_app(backend, run_projector=False)
    clock = Clock()
    console_context(app).clock = clock
    try:
        with (
            TestClient(app) as started,
            psycopg.connect(console_database_url, autocommit=True) as conn,
        ):
            yield Console(app=app, conn=conn, clock=clock, portal=started.portal)
    finally:
        registry.close()
