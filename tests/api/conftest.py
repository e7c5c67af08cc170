"""The HTTP API end to end: one database, one app (with its live projector) per module.

Each test module builds its world once (a database of its own, the app's lifespan, the
tokens it needs) and gives every case fresh inputs, so the suite stays fast without
cases depending on each other's order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from campledger.api.composition import Backend
from campledger.api.database import library_env
from campledger.api.http.app import create_app
from campledger.api.services.auth import create_token, revoke_token
from campledger.api.services.problem_types import PROBLEM_TYPES
from campledger.api.services.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from campledger.api.settings import Settings
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.event_log import wait_for_position
from tests.conftest import new_database

PREFIX = "/api/v1"
SETUP_ACTOR = "setup"


@pytest.fixture(scope="module")
def api_database_url(pg_server_url: str) -> Iterator[str]:
    """A database of the module's own (tests/conftest.py's ``database_url``, per module)."""
    with new_database(pg_server_url, "cl_api") as name:
        # A URL, not a conninfo string: Settings accepts only postgresql:// URLs.
        yield urlunsplit(urlsplit(pg_server_url)._replace(path=f"/{name}"))


@dataclass
class Api:
    """The running app, a client for it, and the means to arrange a world behind it."""

    client: TestClient
    backend: Backend
    conn: psycopg.Connection[Any]
    _tokens: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)
    _serial: Iterator[int] = field(default_factory=itertools.count)

    @property
    def registry(self) -> Registry:
        return self.backend.registry

    # --- callers -----------------------------------------------------------------------

    def token(self, role: str, sites: Sequence[str] = ()) -> str:
        """A live token for this role and scope (one per role and scope, made on demand)."""
        key = (role, tuple(sorted(sites)))
        if key not in self._tokens:
            name = f"{role}-{self.unique()}"
            self._tokens[key] = create_token(self.conn, role=role, name=name, sites=sites)
        return self._tokens[key]

    def auth(self, role: str, sites: Sequence[str] = ()) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sites)}"}

    def named_token(self, name: str, role: str, sites: Sequence[str] = ()) -> str:
        return create_token(self.conn, role=role, name=name, sites=sites)

    def revoked_auth(self, role: str = "admin") -> dict[str, str]:
        name = f"revoked-{self.unique()}"
        token = create_token(self.conn, role=role, name=name)
        assert revoke_token(self.conn, name)
        return {"Authorization": f"Bearer {token}"}

    # --- what was written -----------------------------------------------------------------

    def head(self) -> int:
        """The log's last position: a refused command must leave it where it was."""
        return int(self.registry.recorder.max_notification_id() or 0)

    def writes(self) -> tuple[int, int]:
        """Everything a request can write: events (and their idempotency records, saved
        in the same transaction) and the access trail of personal-data reads."""
        row = self.conn.execute("SELECT count(*) FROM access_trail").fetchone()
        return self.head(), int(row[0]) if row else 0

    def wait(self, position: int | None = None) -> None:
        """Block until the read models have applied ``position`` (default: the head)."""
        target = self.head() if position is None else position
        assert wait_for_position(self.conn, target, 60.0), f"projector stuck before {target}"

    # --- arranging a world through the Registry -----------------------------------------

    def unique(self) -> int:
        return next(self._serial)

    def fresh_code(self, prefix: str = "S") -> str:
        return f"{prefix}-{self.unique()}"

    def open_site(
        self, code: str | None = None, kind: str = "reception", capacity: int = 100
    ) -> str:
        code = code or self.fresh_code()
        self.registry.open_site(
            code=code, name=f"Site {code}", kind=kind, capacity=capacity, actor=SETUP_ACTOR
        )
        return code

    def register(self, site_code: str, count: int = 1, **overrides: Any) -> list[UUID]:
        arrivals = [arrival(self.fresh_code("R"), **overrides) for _ in range(count)]
        result = self.registry.register_arrivals(
            site_code=site_code, arrivals=arrivals, actor=SETUP_ACTOR
        )
        return [UUID(p) for p in result.result["person_ids"]]

    def person(self, site_code: str, **overrides: Any) -> UUID:
        return self.register(site_code, **overrides)[0]

    def held_person(self, site_code: str) -> UUID:
        person = self.person(site_code)
        self.registry.hold_person(person_id=person, reason="interview", actor=SETUP_ACTOR)
        return person

    def planned_transfer(self, origin: str, destination: str, count: int = 1) -> UUID:
        manifest = self.register(origin, count)
        result = self.registry.plan_transfer(
            origin=origin, destination=destination, manifest=manifest, actor=SETUP_ACTOR
        )
        return UUID(result.result["transfer_id"])

    def dispatched_transfer(self, origin: str, destination: str, count: int = 1) -> UUID:
        transfer = self.planned_transfer(origin, destination, count)
        self.registry.dispatch_transfer(transfer_id=transfer, actor=SETUP_ACTOR)
        return transfer

    def manifest(self, transfer: UUID) -> list[UUID]:
        return list(self.registry.get_transfer(transfer).manifest)


def arrival(number: str, **overrides: Any) -> Arrival:
    fields: dict[str, Any] = {
        "registration_number": number,
        "given_name": "Amina",
        "family_name": "Haroun",
        "sex": "female",
        "nationality": "SDN",
        "estimated_age": 30,
        **overrides,
    }
    return Arrival(**fields)


def arrival_json(number: str, **overrides: Any) -> dict[str, Any]:
    """An arrival as a field app sends it."""
    return {
        "registration_number": number,
        "given_name": "Amina",
        "family_name": "Haroun",
        "sex": "female",
        "nationality": "SDN",
        "estimated_age": 30,
        **overrides,
    }


@pytest.fixture(scope="module")
def api(api_database_url: str) -> Iterator[Api]:
    registry = Registry(env=library_env(api_database_url))
    backend = Backend(Settings(database_url=api_database_url), api_database_url, registry)
    app = create_app(backend, run_projector=True)
    try:
        with (
            TestClient(app) as client,
            psycopg.connect(api_database_url, autocommit=True) as conn,
        ):
            yield Api(client=client, backend=backend, conn=conn)
    finally:
        registry.close()


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with this status and stable type; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE + code, body
    assert body["status"] == status
    assert body["title"]
    # Every problem a test meets has its page, saying this very status and title.
    listed = PROBLEM_TYPES[code]
    assert (listed.title, listed.status in (None, status)) == (body["title"], True), listed
    return body
