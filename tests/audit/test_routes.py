"""The auditors' router, mounted on a bare FastAPI app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from campledger.api.composition import Backend
from campledger.api.http import problems
from campledger.api.http.routes import audit
from campledger.api.services.auth import create_token
from campledger.api.settings import Settings
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.ledger import Ledger
from tests.projections.lifecycle import NOW, full_lifecycle


@pytest.fixture
def world(library_env: dict[str, str], database_url: str) -> Iterator[tuple[FastAPI, Any]]:
    registry = Registry(env=library_env, clock=lambda: NOW)
    lifecycle = full_lifecycle(registry)
    with Projector(database_url, [Ledger]) as projector:
        projector.catch_up()
    app = FastAPI()
    app.include_router(audit.router)
    app.state.backend = Backend(Settings(), database_url, registry)
    try:
        yield app, lifecycle
    finally:
        registry.close()


def test_every_endpoint_needs_an_unscoped_auditor_token(
    world: tuple[FastAPI, Any], database_url: str
) -> None:
    app, _ = world
    problems.install(app)
    with ConnectionPool(database_url, kwargs={"autocommit": True}) as pool:
        app.state.pool = pool
        with pool.connection() as conn:
            tokens = {
                name: create_token(conn, name=name, role=role, sites=sites)
                for name, role, sites in (
                    ("auditor", "auditor", ()),
                    ("scoped-auditor", "auditor", ("RC-ADRE",)),
                    ("registrar", "registrar", ()),
                )
            }
        client = TestClient(app)

        def status(name: str | None) -> int:
            headers = {"Authorization": f"Bearer {tokens[name]}"} if name else {}
            return client.get("/audit/digest", headers=headers).status_code

        assert status(None) == 401
        assert status("registrar") == 403
        assert status("scoped-auditor") == 403
        assert status("auditor") == 200


def test_digest_proof_history_and_access_trail(world: tuple[FastAPI, Any]) -> None:
    app, lifecycle = world
    app.dependency_overrides[audit.require_auditor] = lambda: "auditor-1"
    client = TestClient(app)
    digest = client.get("/audit/digest").json()
    proof = client.get("/audit/proof", params=digest).json()
    assert proof["ok"] and proof["recomputed"] == digest["digest"]
    bad = client.get("/audit/proof", params={**digest, "digest": "0" * 64}).json()
    assert not bad["ok"]

    path = f"/audit/persons/{lifecycle.father}/history"
    body = client.get(path, params={"as_of": "2025-03-01T12:30:00Z"}).json()
    assert body["state"]["status"] == "in_transit"
    assert "given_name" not in body["state"]
    assert client.get("/audit/access-trail").json()["items"] == []
    personal = client.get(path, params={"personal": "true"}).json()
    assert personal["state"]["given_name"] == "Amina"
    trail = client.get("/audit/access-trail", params={"person_id": str(lifecycle.father)}).json()
    assert [e["actor"] for e in trail["items"]] == ["auditor-1"]
