"""Duplicate candidates in the field: proposed, dismissed for good, merged with their history,
and exact biometric matches refused at the desk, on the real database and HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from campledger.api.composition import Backend
from campledger.api.http.app import create_app
from campledger.api.http.problems import domain_problem
from campledger.api.services.auth import Principal, Role, create_token
from campledger.api.services.problems import PROBLEM_BASE
from campledger.api.settings import Settings
from campledger.domain.history import person_history
from campledger.domain.model import errors
from campledger.domain.model.arrival import Arrival
from campledger.domain.model.duplicates import pair_id
from campledger.domain.service.registry import Registry
from campledger.projections.audit_log import audit_entries
from campledger.projections.duplicates import Duplicates, candidates_page
from campledger.projections.engine import Projector

ACTOR = "registrar-1"
REVIEWER = "manager-1"


def arrival(number: str, **overrides: Any) -> Arrival:
    base = Arrival(
        registration_number=number,
        given_name="Mohammed",
        family_name="Hassan",
        sex="male",
        nationality="SDN",
        date_of_birth=date(1990, 5, 1),
    )
    return replace(base, **overrides)


@pytest.fixture
def registry(library_env: dict[str, str]) -> Iterator[Registry]:
    app = Registry(env=library_env)
    app.open_site(code="RC-1", name="Reception 1", kind="reception", capacity=500, actor=ACTOR)
    app.open_site(code="RC-2", name="Reception 2", kind="reception", capacity=500, actor=ACTOR)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def register(registry: Registry, site: str, *arrivals: Arrival) -> list[UUID]:
    result = registry.register_arrivals(site_code=site, arrivals=list(arrivals), actor=ACTOR)
    return [UUID(p) for p in result.result["person_ids"]]


def project(database_url: str) -> None:
    with Projector(database_url) as projector:
        projector.catch_up()


def proposed(conn: psycopg.Connection[Any], sites: list[str] | None = None) -> dict[Any, Any]:
    rows = candidates_page(conn, sites, limit=1000).rows
    return {frozenset((r["person_id"], r["other_id"])): r for r in rows}


def pair(a: UUID, b: UUID) -> frozenset[UUID]:
    return frozenset((a, b))


# --- proposing -------------------------------------------------------------------------------


def test_a_transliterated_name_with_the_same_sex_and_birth_year_is_proposed(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    first, unrelated = register(
        registry,
        "RC-1",
        arrival("R-1", household_id="H-1"),
        arrival("R-2", given_name="Ibrahim", family_name="Hassan"),
    )
    (second,) = register(
        registry,
        "RC-2",
        arrival("R-3", given_name="Muhammad", family_name="Hasan", date_of_birth=None,
                estimated_age=datetime.now(UTC).year - 1990, household_id="H-1"),
    )  # fmt: skip
    project(database_url)

    found = proposed(conn)
    assert set(found) == {pair(first, second)}
    row = found[pair(first, second)]
    assert row["reasons"] == "name 0.91, same sex, same birth year, same household"
    assert row["score"] == pytest.approx(0.91 + 0.05, abs=0.006)
    assert (row["person_id"], row["other_id"]) == tuple(sorted((first, second)))
    assert {row["person_registration_number"], row["other_registration_number"]} == {"R-1", "R-3"}
    assert unrelated not in row.values()


def test_a_candidate_row_holds_ids_score_and_reasons_but_no_names(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    register(registry, "RC-1", arrival("R-1"), arrival("R-2", given_name="Mohamed"))
    project(database_url)
    columns = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'candidates' ORDER BY ordinal_position",
            (Duplicates.live_schema(),),
        )
    ]
    assert columns == ["person_id", "other_id", "score", "reasons"]
    (row,) = conn.execute(f"SELECT * FROM {Duplicates.live_schema()}.candidates").fetchall()
    assert not any("moham" in str(value).lower() for value in row)


@pytest.mark.parametrize(
    "other",
    [
        {"sex": "female", "given_name": "Mohammed"},  # same name, other sex
        {"date_of_birth": None, "estimated_age": datetime.now(UTC).year - 1986},  # 4 years
        {"date_of_birth": date(1990, 11, 23)},  # another recorded date of birth
        {"given_name": "Ibrahim"},  # another given name in the same family
        {"family_name": "Osman"},  # another family
    ],
    ids=["other-sex", "born-years-apart", "other-birth-date", "other-given-name", "other-family"],
)
def test_records_that_differ_are_not_proposed(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any], other: dict[str, Any]
) -> None:
    register(registry, "RC-1", arrival("R-1"), arrival("R-2", **other))
    project(database_url)
    assert proposed(conn) == {}


def test_an_estimated_age_counts_as_a_birth_year(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    age = datetime.now(UTC).year - 1991
    first, second = register(
        registry,
        "RC-1",
        arrival("R-1"),
        arrival("R-2", given_name="Muhammad", date_of_birth=None, estimated_age=age),
    )
    project(database_url)
    assert "birth year ±1" in proposed(conn)[pair(first, second)]["reasons"]


def test_a_correction_brings_a_pair_in_and_out_of_the_list(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    first, second = register(registry, "RC-1", arrival("R-1"), arrival("R-2", given_name="Ibrahim"))
    project(database_url)
    assert proposed(conn) == {}

    registry.correct_detail(
        person_id=second, field="given_name", value="Mouhamed", reason="typo", actor=ACTOR
    )
    project(database_url)
    assert set(proposed(conn)) == {pair(first, second)}

    registry.correct_detail(
        person_id=first, field="sex", value="female", reason="typo", actor=ACTOR
    )
    project(database_url)
    assert proposed(conn) == {}


def test_the_list_is_ranked_by_score_and_pages_with_a_cursor(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    register(
        registry,
        "RC-1",
        arrival("R-1", given_name="Amina", family_name="Haroun", sex="female"),
        arrival("R-2", given_name="Aminah", family_name="Haroun", sex="female"),
        arrival("R-3", given_name="Abdel Rahman", family_name="Idris"),
        arrival("R-4", given_name="Abd al-Rahman", family_name="Idriss"),
        arrival("R-5", given_name="Abdulrahman", family_name="Idris", date_of_birth=None,
                estimated_age=datetime.now(UTC).year - 1992),
    )  # fmt: skip
    project(database_url)
    everything = candidates_page(conn, limit=1000).rows
    assert len(everything) == 4
    scores = [r["score"] for r in everything]
    assert scores == sorted(scores, reverse=True)

    seen, cursor = [], None
    while True:
        page = candidates_page(conn, after=cursor, limit=3)
        seen += page.rows
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == everything


# --- dismissing --------------------------------------------------------------------------------


def test_a_dismissed_pair_is_not_proposed_again_even_after_a_rebuild(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    first, second, third = register(
        registry,
        "RC-1",
        arrival("R-1"),
        arrival("R-2", given_name="Muhammad"),
        arrival("R-3", given_name="Mohamed"),
    )
    project(database_url)
    assert set(proposed(conn)) == {pair(first, second), pair(first, third), pair(second, third)}

    registry.dismiss_duplicate(
        person_id=second, other_id=first, reason="twins: different mothers", actor=REVIEWER
    )
    project(database_url)
    assert set(proposed(conn)) == {pair(first, third), pair(second, third)}
    (logged,) = audit_entries(conn, action="duplicatepair.dismissed")
    assert (logged.actor, logged.subject_id) == (REVIEWER, pair_id(first, second))
    assert logged.reason == "twins: different mothers"

    # A later correction matches the record again, but not with the dismissed partner.
    registry.correct_detail(
        person_id=first, field="given_name", value="Muhammed", reason="typo", actor=ACTOR
    )
    project(database_url)
    assert set(proposed(conn)) == {pair(first, third), pair(second, third)}

    with Projector(database_url) as projector:
        projector.rebuild([Duplicates.name])
    assert set(proposed(conn)) == {pair(first, third), pair(second, third)}


def test_a_projector_sees_records_another_projector_process_applied(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    # Each projector keeps the blocks in memory; when another process applied batches in
    # between, the first must not match new records against its stale blocks.
    (first,) = register(registry, "RC-1", arrival("R-1"))
    with Projector(database_url) as one, Projector(database_url) as two:
        one.catch_up()
        (second,) = register(registry, "RC-1", arrival("R-2", given_name="Mohamad"))
        two.catch_up()
        (third,) = register(registry, "RC-2", arrival("R-3", given_name="Muhammad"))
        one.catch_up()
    assert set(proposed(conn)) == {pair(first, second), pair(first, third), pair(second, third)}


# --- merging -----------------------------------------------------------------------------------


def test_a_merge_drops_the_pair_and_moves_the_history_to_the_survivor(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    survivor, duplicate, third = register(
        registry,
        "RC-1",
        arrival("R-1"),
        arrival("R-2", given_name="Muhammad"),
        arrival("R-3", given_name="Mohamed", date_of_birth=date(1992, 5, 1)),
    )
    registry.hold_person(person_id=duplicate, reason="interview", actor=ACTOR)
    registry.release_person(person_id=duplicate, reason="cleared", actor=ACTOR)
    project(database_url)
    assert pair(survivor, duplicate) in proposed(conn)

    registry.merge_persons(
        duplicate_id=duplicate, survivor_id=survivor, reason="same person", actor=REVIEWER
    )
    project(database_url)

    assert set(proposed(conn)) == {pair(survivor, third)}
    history = person_history(registry, survivor, include_duplicates=True)
    assert [e.action for e in history.entries] == ["registered", "duplicate_merged"]
    assert history.entries[-1].reference["duplicate_id"] == duplicate
    assert [e.action for e in history.duplicates[duplicate]] == [
        "registered", "held", "released", "merged_into",
    ]  # fmt: skip


def test_a_departure_drops_the_persons_pairs(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    first, second = register(registry, "RC-1", arrival("R-1"), arrival("R-2", given_name="Muhamed"))
    project(database_url)
    assert set(proposed(conn)) == {pair(first, second)}
    registry.record_departure(person_id=first, reason="resettled", actor=ACTOR)
    project(database_url)
    assert proposed(conn) == {}


# --- exact matches at the desk -----------------------------------------------------------------


def test_an_exact_biometric_match_is_refused_naming_the_existing_person(
    registry: Registry,
) -> None:
    (existing,) = register(registry, "RC-1", arrival("R-1", biometric_reference="BIO-77"))
    with pytest.raises(errors.DuplicateBiometricReference) as refused:
        registry.register_arrival(
            site_code="RC-2",
            arrival=arrival("R-2", given_name="Muhammad", biometric_reference="BIO-77"),
            actor=ACTOR,
        )
    assert refused.value.details == {"existing_person": str(existing)}
    for personal in ("BIO-77", "Muhammad", "Hassan", "1990"):
        assert personal not in refused.value.message


def _request_by(role: Role) -> Request:
    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []})
    request.state.principal = Principal(token_id="t", name="someone", role=role)
    return request


def test_only_roles_that_see_personal_data_learn_who_holds_a_biometric() -> None:
    error = errors.DuplicateBiometricReference(
        "this biometric reference is already registered to another person",
        existing_person="1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    )
    registrar = domain_problem(_request_by(Role.REGISTRAR), error)
    officer = domain_problem(_request_by(Role.TRANSFER_OFFICER), error)
    assert b'"existing_person"' in registrar.body
    assert b'"existing_person"' not in officer.body
    assert registrar.status_code == officer.status_code == 409


# --- the HTTP API ------------------------------------------------------------------------------


@pytest.fixture
def api(registry: Registry, database_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    backend = Backend(Settings(), database_url, registry)
    app = create_app(backend, run_projector=False)
    with TestClient(app) as client, psycopg.connect(database_url, autocommit=True) as conn:
        tokens = {
            name: create_token(conn, name=name, role=role, sites=sites)
            for name, role, sites in (
                ("manager", "site_manager", ()),
                ("manager-rc2", "site_manager", ("RC-2",)),
                ("auditor", "auditor", ()),
                ("registrar", "registrar", ()),
                ("officer", "transfer_officer", ()),
            )
        }
        yield client, {k: f"Bearer {v}" for k, v in tokens.items()}


def test_reviewers_list_candidates_and_dismiss_a_pair_over_http(
    registry: Registry, database_url: str, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    first, second = register(registry, "RC-1", arrival("R-1"), arrival("R-2", given_name="Muhamad"))
    (third,) = register(registry, "RC-2", arrival("R-3", given_name="Ahmed", family_name="Hussein"))
    (fourth,) = register(registry, "RC-2", arrival("R-4", given_name="Ahmad", family_name="Husayn"))
    project(database_url)

    listed = client.get("/api/v1/duplicates", headers={"Authorization": auth["manager"]})
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {frozenset((UUID(i["person_id"]), UUID(i["other_id"]))) for i in items} == {
        pair(first, second), pair(third, fourth),
    }  # fmt: skip
    assert all(set(i) >= {"score", "reasons", "person_site_code"} for i in items)
    assert not any("Moham" in str(v) or "Hussein" in str(v) for i in items for v in i.values())

    at_rc2 = client.get(
        "/api/v1/duplicates",
        params={"site_code": "RC-2"},
        headers={"Authorization": auth["auditor"]},
    ).json()["items"]
    assert [(UUID(i["person_id"]), UUID(i["other_id"])) for i in at_rc2] == [
        tuple(sorted((third, fourth)))
    ]
    scoped = client.get("/api/v1/duplicates", headers={"Authorization": auth["manager-rc2"]})
    assert [i["person_site_code"] for i in scoped.json()["items"]] == ["RC-2"]
    out_of_scope = client.get(
        "/api/v1/duplicates", params={"site_code": "RC-1"},
        headers={"Authorization": auth["manager-rc2"]},
    )  # fmt: skip
    assert out_of_scope.status_code == 403
    assert (
        client.get("/api/v1/duplicates", headers={"Authorization": auth["officer"]}).status_code
        == 403
    )

    body = {"person_id": str(first), "other_id": str(second), "reason": "brothers"}
    for who in ("auditor", "registrar"):
        refused = client.post(
            "/api/v1/duplicates/dismissals", json=body, headers={"Authorization": auth[who]}
        )
        assert refused.status_code == 403, who
    assert (
        client.post(
            "/api/v1/duplicates/dismissals", json=body,
            headers={"Authorization": auth["manager-rc2"]},
        ).status_code
        == 403
    )  # fmt: skip
    done = client.post(
        "/api/v1/duplicates/dismissals",
        json=body,
        headers={"Authorization": auth["manager"], "Idempotency-Key": "dismiss-1"},
    )
    # Recorded, but with no URL to read it back by: 200, and no Location.
    assert done.status_code == 200 and "Location" not in done.headers, done.text
    assert done.json()["person_id"] == str(min(first, second))
    again = client.post(
        "/api/v1/duplicates/dismissals",
        json={**body, "person_id": str(second), "other_id": str(first)},
        headers={"Authorization": auth["manager"]},
    )
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM_BASE + "duplicate-already-dismissed"

    after = client.get(
        "/api/v1/duplicates",
        params={"wait_for": done.json()["position"]},
        headers={"Authorization": auth["manager"]},
    )
    # No live projector in this app: the read waits for a position nobody projects.
    assert after.status_code == 503
    project(database_url)
    remaining = client.get("/api/v1/duplicates", headers={"Authorization": auth["manager"]})
    assert len(remaining.json()["items"]) == 1


def test_an_exact_biometric_match_over_http_names_the_existing_person(
    registry: Registry, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    (existing,) = register(registry, "RC-1", arrival("R-1", biometric_reference="BIO-9"))
    sent = {
        "site_code": "RC-2", "registration_number": "R-2", "given_name": "Muhammad",
        "family_name": "Hassan", "sex": "male", "nationality": "SDN", "date_of_birth": "1990-05-01",
        "biometric_reference": "BIO-9",
    }  # fmt: skip
    response = client.post(
        "/api/v1/arrivals", json=sent, headers={"Authorization": auth["registrar"]}
    )
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == PROBLEM_BASE + "duplicate-biometric-reference"
    assert problem["existing_person"] == str(existing)
    assert not any(value in response.text for value in ("BIO-9", "Muhammad", "1990-05-01"))
