"""Liveness, readiness and health: three questions, told apart.

This module's database gets a poison event, so it has an app of its own.
"""

from __future__ import annotations

import uuid

import orjson

from tests.api.conftest import PREFIX, Api


def test_liveness_and_readiness_answer_without_a_token(api: Api) -> None:
    live = api.client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "alive"})
    ready = api.client.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["database"] is True
    assert set(body["pool"]) == {"size", "available", "waiting"}
    assert api.client.get(f"{PREFIX}/health/ready").status_code == 200


def test_livez_and_readyz_are_the_probes_and_the_old_paths_are_deprecated_aliases(
    api: Api,
) -> None:
    live = api.client.get("/livez")
    assert (live.status_code, live.json()) == (200, {"status": "alive"})
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    assert ready.json()["database"] is True
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/livez", "/readyz"):
        assert not paths[path]["get"].get("deprecated"), path
    for path in (
        "/health/live",
        "/health/ready",
        f"{PREFIX}/health/live",
        f"{PREFIX}/health/ready",
    ):
        assert paths[path]["get"]["deprecated"] is True, path
    assert "Retry-After" in paths["/readyz"]["get"]["responses"]["503"]["headers"]


def test_readyz_is_503_busy_while_every_pooled_connection_is_held_and_livez_still_answers(
    api: Api,
) -> None:
    pool = api.client.app.state.pool  # type: ignore[attr-defined]
    held = []
    try:
        while len(held) < pool.max_size:
            held.append(pool.getconn(timeout=5))
        busy = api.client.get("/readyz")
        assert busy.status_code == 503 and busy.json()["status"] == "busy"
        assert busy.headers["Retry-After"] == "1"
        assert busy.json()["database"] is True
        assert api.client.get("/livez").status_code == 200
    finally:
        for conn in held:
            pool.putconn(conn)
    assert api.client.get("/readyz").status_code == 200


def test_health_is_ok_while_the_projector_runs_and_nothing_is_set_aside(api: Api) -> None:
    api.register(api.open_site(), 2)
    api.wait()
    health = api.client.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert (body["status"], body["projector_running"], body["quarantined"]) == ("ok", True, {})
    assert body["head"] == api.head() and set(body["lag"].values()) == {0}
    assert body["waiting_reads"] == 0


def test_health_is_degraded_and_names_the_position_of_an_event_set_aside(api: Api) -> None:
    site = api.open_site()
    api.register(site, 1)
    api.wait()
    topic, state = api.conn.execute(
        "SELECT topic, state FROM registry_events WHERE topic LIKE '%%Person.Registered%%' "
        "ORDER BY notification_id DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    poisoned = orjson.loads(bytes(state)) | {"given_name": "Ha\x00wa"}
    person = uuid.uuid4()
    poisoned["originator_id"] = str(person)
    poisoned["registration_number"] = "HEALTH-POISON"
    row = api.conn.execute(
        "INSERT INTO registry_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, %s, %s) RETURNING notification_id",
        (person, topic, orjson.dumps(poisoned)),
    ).fetchone()
    assert row is not None
    position = int(row[0])
    api.register(site, 1)  # the read models go on past it
    api.wait()

    health = api.client.get("/health")
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "degraded" and body["database"] is True
    assert body["quarantined"]["roster"] == [position]
    assert set(body["lag"].values()) == {0}
    assert "HEALTH-POISON" not in health.text
    # Degraded read models do not make the process unready: it still serves.
    assert api.client.get("/health/ready").status_code == 200
    roster = api.client.get(
        f"{PREFIX}/sites/{site}/roster", headers=api.auth("admin"), params={"limit": 10}
    )
    assert roster.status_code == 200 and len(roster.json()["items"]) == 2
