"""HTTP details a client or a browser relies on: the auth scheme, caching and sniffing
headers, and who may read the metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from campledger.api.http.app import MAX_BODY_BYTES
from tests.api.conftest import PREFIX, Api, assert_problem


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(api: Api, scheme: str) -> None:
    token = api.token("auditor")
    response = api.client.get(f"{PREFIX}/sites", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer   ", "Bearertoken", "Token x"]
)
def test_other_schemes_and_empty_tokens_are_refused(api: Api, header: str) -> None:
    response = api.client.get(f"{PREFIX}/sites", headers={"Authorization": header})
    assert_problem(response, 401, "unauthorised")


def assert_guarded(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_personal_data_is_never_stored_by_a_cache_or_sniffed(api: Api) -> None:
    code = api.open_site()
    person = api.person(code)
    api.wait()
    admin = api.auth("admin")
    for response in (
        api.client.get(f"{PREFIX}/persons/{person}", headers=admin),
        api.client.get(f"{PREFIX}/sites/{code}/roster", headers=admin),
        api.client.get(f"{PREFIX}/sites/{code}/roster", params={"format": "csv"}, headers=admin),
        api.client.get(f"{PREFIX}/audit/log.csv", headers=admin),
    ):
        assert response.status_code == 200, response.text
        assert_guarded(response)


def test_every_response_carries_the_headers_errors_included(api: Api) -> None:
    too_large = b"x" * (MAX_BODY_BYTES + 1)
    for response in (
        api.client.get(f"{PREFIX}/sites"),  # 401
        api.client.get(f"{PREFIX}/nowhere", headers=api.auth("admin")),  # 404
        api.client.post(f"{PREFIX}/arrivals", content=too_large, headers=api.auth("admin")),
        api.client.get("/health"),
        api.client.get("/openapi.json"),
    ):
        assert_guarded(response)


def test_an_unexpected_error_carries_the_headers_too(api: Api) -> None:
    app = api.client.app

    def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/explode", explode)  # type: ignore[attr-defined]
    # First, not last: the console is mounted at / after the API and would answer it.
    app.router.routes.insert(0, app.router.routes.pop())  # type: ignore[attr-defined]
    try:
        # Not entered as a context: a second lifespan would replace the module's pool.
        response = TestClient(app, raise_server_exceptions=False).get("/test-only/explode")
    finally:
        app.router.routes.pop(0)  # type: ignore[attr-defined]
    assert response.status_code == 500
    assert_guarded(response)


@pytest.mark.parametrize("path", ["/metrics", f"{PREFIX}/metrics"])
def test_metrics_need_a_monitor_auditor_or_admin_token(api: Api, path: str) -> None:
    assert_problem(api.client.get(path), 401, "unauthorised")
    assert_problem(api.client.get(path, headers=api.auth("registrar")), 403, "forbidden")
    scoped = api.auth("monitor", [api.open_site()])
    assert_problem(api.client.get(path, headers=scoped), 403, "out-of-scope")
    for role in ("monitor", "auditor", "admin"):
        response = api.client.get(path, headers=api.auth(role))
        assert response.status_code == 200, response.text
        assert "campledger_http_requests_total" in response.text
