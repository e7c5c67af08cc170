"""Security fixtures: the real server on a small world, and the figures each test measured.

The server is ``campledger serve`` as a subprocess (tests/reliability/support.py), so what
is tested is what a field device or an attacker reaches: uvicorn's HTTP parsing included.
One server per module, with a few sites, persons and transfers behind it, so generated
requests sometimes name something that exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID

import httpx
import psycopg
import pytest

from tests.api.conftest import api, api_database_url, arrival_json
from tests.reliability.support import Server, Token, log_head, make_token
from tests.security.support import FIGURES_KEY, Figures

__all__ = ["api", "api_database_url"]  # the API tests' module-scoped app, reused here


@dataclass
class World:
    """What exists behind the server: every kind of resource a path can name."""

    sites: list[str] = field(default_factory=list)
    persons: list[UUID] = field(default_factory=list)
    transfers: list[UUID] = field(default_factory=list)
    households: list[str] = field(default_factory=list)


@dataclass
class Running:
    """The server, an admin token for it, and what it holds."""

    server: Server
    token: Token
    database_url: str
    world: World

    def client(self) -> httpx.Client:
        return self.server.client(self.token)

    def head(self) -> int:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return log_head(conn)

    def writes(self) -> tuple[int, int]:
        """Everything a request can write: the log's head and the access trail's length
        (as ``Api.writes`` in tests/api/conftest.py, but for the server's database)."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM access_trail").fetchone()
            return log_head(conn), int(row[0]) if row else 0


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Figures:
    stash = request.config.stash
    if FIGURES_KEY not in stash:
        stash[FIGURES_KEY] = Figures(label="security")
    return stash[FIGURES_KEY]


def build_world(client: httpx.Client) -> World:
    """Two sites, a few persons (one household), one planned and one dispatched transfer."""
    world = World()
    for code, kind in (("RC-SEC", "reception"), ("CAMP-SEC", "camp")):
        response = client.post("/sites", json={"code": code, "name": code, "kind": kind,
                                               "capacity": 500})  # fmt: skip
        assert response.status_code == 201, response.text
        world.sites.append(code)
    household = f"HH-{uuid.uuid4().hex[:6]}"
    world.households.append(household)
    arrivals = [
        arrival_json(f"R-SEC-{n}", household_id=household if n < 3 else None,
                     relationship="focal_point" if n == 0 else None)
        for n in range(6)
    ]  # fmt: skip
    response = client.post("/arrivals/batch", json={"site_code": "RC-SEC", "arrivals": arrivals})
    assert response.status_code == 201, response.text
    world.persons.extend(UUID(p) for p in response.json()["person_ids"])
    for manifest, dispatch in ((world.persons[3:4], False), (world.persons[4:5], True)):
        response = client.post("/transfers", json={
            "origin": "RC-SEC", "destination": "CAMP-SEC", "manifest": [str(p) for p in manifest],
        })  # fmt: skip
        assert response.status_code == 201, response.text
        transfer = UUID(response.json()["transfer_id"])
        world.transfers.append(transfer)
        if dispatch:
            assert client.post(f"/transfers/{transfer}/dispatch", json={}).status_code == 200
    return world


@pytest.fixture(scope="module")
def running(api_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """``campledger serve`` (live projector) on the module's database, with a small world."""
    server = Server(api_database_url, tmp_path_factory.mktemp("serve"))
    server.start()
    try:
        token = make_token(api_database_url, "admin")
        with server.client(token) as client:
            world = build_world(client)
        yield Running(server, token, api_database_url, world)
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = terminalreporter.config.stash.get(FIGURES_KEY, None)
    if found is None or not found.rows:
        return
    terminalreporter.write_sep("=", "security figures")
    for line in found.lines():
        terminalreporter.write_line(line)
