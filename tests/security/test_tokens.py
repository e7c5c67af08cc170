"""Tokens: stored only as a hash, compared in constant time, and held to a request rate."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from campledger.api.composition import Backend
from campledger.api.database import library_env
from campledger.api.http.app import create_app
from campledger.api.http.ratelimit import RateLimiter
from campledger.api.services.auth import TOKENS_TABLE, create_token
from campledger.api.services.problems import PROBLEM_MEDIA_TYPE
from campledger.api.settings import Settings
from campledger.domain.service.registry import Registry
from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem
from tests.reliability.support import Figures

# --- stored hashed ------------------------------------------------------------------------


def test_the_tokens_table_holds_no_secret(api: Api) -> None:
    tokens = {role: api.token(role) for role in ("admin", "registrar", "auditor")}
    rows = api.conn.execute(f"SELECT * FROM {TOKENS_TABLE}").fetchall()
    stored = " ".join(str(value) for row in rows for value in row)
    assert len(rows) >= len(tokens)
    for token in tokens.values():
        secret = token.split("_", 2)[2]
        assert len(secret) >= 40  # 32 random bytes, URL-safe
        assert secret not in stored and token not in stored
        # What is there instead: the secret's SHA-256, which cannot be presented as a token.
        assert hashlib.sha256(secret.encode()).hexdigest() in stored


def test_the_stored_hash_does_not_authenticate(api: Api) -> None:
    token = api.token("admin")
    token_id = token.split("_", 2)[1]
    row = api.conn.execute(
        f"SELECT secret_sha256 FROM {TOKENS_TABLE} WHERE token_id = %s", (token_id,)
    ).fetchone()
    assert row is not None
    forged = f"cl_{token_id}_{row[0]}"
    response = api.client.get(f"{PREFIX}/sites", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "unauthorised")


# --- compared in constant time ---------------------------------------------------------------


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, Any]]]:
    """Every call of hmac.compare_digest while the test runs, with its arguments."""
    seen: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    yield seen


def test_a_presented_secret_is_compared_with_compare_digest(
    api: Api, comparisons: list[tuple[Any, Any]]
) -> None:
    token = api.token("admin")
    token_id, secret = token.split("_", 2)[1:]
    digest = hashlib.sha256(secret.encode()).hexdigest()
    wrong = f"cl_{token_id}_{'x' * len(secret)}"
    unknown = f"cl_{'0' * len(token_id)}_{secret}"
    answers = {}
    for name, presented in (("right", token), ("wrong", wrong), ("unknown id", unknown)):
        comparisons.clear()
        response = api.client.get(
            f"{PREFIX}/sites", headers={"Authorization": f"Bearer {presented}"}
        )
        answers[name] = (response.status_code, list(comparisons))
    assert answers["right"][0] == 200 and answers["right"][1] == [(digest, digest)]
    # A wrong secret: its hash is compared with the stored one, by compare_digest alone.
    assert answers["wrong"][0] == 401 and len(answers["wrong"][1]) == 1
    assert answers["wrong"][1][0][1] == digest
    # An unknown id costs a comparison too, so it cannot be told from a wrong secret by time.
    assert answers["unknown id"][0] == 401 and len(answers["unknown id"][1]) == 1


# --- a request rate per token -----------------------------------------------------------------

RATE, BURST = 0.5, 5  # one request every two seconds after a burst of five


@pytest.fixture(scope="module")
def limited(api_database_url: str) -> Iterator[tuple[TestClient, psycopg.Connection[Any]]]:
    """The app with a tight limit, on the API tests' module database."""
    registry = Registry(env=library_env(api_database_url))
    settings = Settings(
        database_url=api_database_url, rate_limit_per_second=RATE, rate_limit_burst=BURST
    )
    app = create_app(Backend(settings, api_database_url, registry), run_projector=False)
    try:
        with (
            TestClient(app) as client,
            psycopg.connect(api_database_url, autocommit=True) as conn,
        ):
            yield client, conn
    finally:
        registry.close()


def test_a_token_over_its_rate_gets_429_with_retry_after_and_writes_nothing(
    api: Api, limited: tuple[TestClient, psycopg.Connection[Any]], figures: Figures
) -> None:
    client, conn = limited
    site = api.open_site()
    api.wait()
    busy = {"Authorization": f"Bearer {create_token(conn, name='busy', role='admin')}"}
    other = {"Authorization": f"Bearer {create_token(conn, name='other', role='admin')}"}
    answers = [client.get(f"{PREFIX}/sites/{site}", headers=busy).status_code for _ in range(BURST)]
    assert answers == [200] * BURST

    before = api.writes()
    body = {"site_code": site, **arrival_json("R-LIMITED")}
    refused = client.post(f"{PREFIX}/arrivals", json=body, headers=busy)
    problem = assert_problem(refused, 429, "too-many-requests")
    assert refused.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert "busy" not in problem["detail"]
    assert api.writes() == before, "a command refused for its rate was written"

    # Another token is not held back by the busy one; nor is a public probe.
    assert client.get(f"{PREFIX}/sites/{site}", headers=other).status_code == 200
    assert client.get("/health").status_code == 200
    figures.record("rate limit per token", burst=BURST, per_second=RATE, refused_after=BURST)


def test_a_wrong_secret_does_not_drain_the_tokens_bucket(
    limited: tuple[TestClient, psycopg.Connection[Any]],
) -> None:
    client, conn = limited
    token = create_token(conn, name="victim", role="admin")
    token_id = token.split("_", 2)[1]
    forged = {"Authorization": f"Bearer cl_{token_id}_{'x' * 43}"}
    for _ in range(BURST * 2):
        assert client.get(f"{PREFIX}/sites", headers=forged).status_code == 401
    response = client.get(f"{PREFIX}/sites", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.wait("t") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait("t") == pytest.approx(0.5)
    assert limiter.wait("u") == 0.0  # another key has its own bucket
    now[0] += 0.5
    assert limiter.wait("t") == 0.0
    assert limiter.wait("t") > 0
    now[0] += 10.0  # a long pause refills to the burst, not beyond
    assert [limiter.wait("t") for _ in range(4)][-1] > 0


def test_the_default_limit_leaves_room_for_the_load_benchmark() -> None:
    # bench/api_load.py offers 300 registrations/s through one token (TARGET_RATE).
    from bench.api_load import TARGET_RATE

    fields = Settings.model_fields
    per_second = fields["rate_limit_per_second"].default
    assert per_second >= 3 * TARGET_RATE
    assert fields["rate_limit_burst"].default >= per_second
