"""Subject access end to end: the data protection officer's export of everything held about
one person, through the API and the command line, and its own entry on the access trail."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.services import subject_access
from tests.api.conftest import PREFIX, SETUP_ACTOR, Api, arrival_json, assert_problem

runner = CliRunner()
PURPOSE = "GET /persons/{id}/subject-export"


def _register(api: Api, site: str, number: str, **fields: Any) -> UUID:
    answer = api.client.post(
        f"{PREFIX}/arrivals",
        json={"site_code": site, **arrival_json(number, **fields)},
        headers={**api.auth("registrar", [site]), "Idempotency-Key": f"subject-{number}"},
    )
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["person_id"])


def _trail(api: Api, person: UUID) -> list[tuple[str, str]]:
    rows = api.conn.execute(
        "SELECT actor, purpose FROM access_trail WHERE person_id = %s ORDER BY id", (person,)
    ).fetchall()
    return [(actor, purpose) for actor, purpose in rows]


def _export(api: Api, person: UUID, headers: dict[str, str]) -> dict[str, Any]:
    answer = api.client.get(f"{PREFIX}/persons/{person}/subject-export", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


def test_an_export_holds_everything_about_the_person_and_lists_itself_on_the_trail(
    api: Api,
) -> None:
    n = api.unique()
    site = api.open_site()
    household = f"HH-SA-{n}"
    person = _register(
        api, site, f"SA-{n}", given_name="Rahma", family_name="Idriss",
        household_id=household, relationship="focal_point", biometric_reference=f"BIO-SA-{n}",
    )  # fmt: skip
    child = _register(
        api, site, f"SB-{n}", given_name="Yusra", family_name="Idriss",
        household_id=household, relationship="child", estimated_age=6,
    )  # fmt: skip
    duplicate = _register(api, site, f"SC-{n}", given_name="Rahma", family_name="Idris")
    look_alike = _register(api, site, f"SD-{n}", given_name="Rahma", family_name="Idriss")
    api.registry.merge_persons(
        duplicate_id=duplicate, survivor_id=person, reason="same card", actor=SETUP_ACTOR
    )
    held = api.client.post(
        f"{PREFIX}/persons/{person}/hold",
        json={"reason": "interview", "authority": "Governor", "order_reference": f"ORD-{n}"},
        headers=api.auth("screener", [site]),
    )
    assert held.status_code == 200, held.text
    api.wait()
    registrar = f"reg-{n}"
    reader = api.named_token(registrar, "registrar", [site])
    read = api.client.get(
        f"{PREFIX}/persons/{person}", headers={"Authorization": f"Bearer {reader}"}
    )
    assert read.status_code == 200, read.text

    dpo = f"dpo-{n}"
    exporter = api.named_token(dpo, "data_protection_officer")
    body = _export(api, person, {"Authorization": f"Bearer {exporter}"})

    assert (body["format_version"], body["exported_by"], body["purpose"]) == (1, dpo, PURPOSE)
    assert (body["person_id"], body["registration_number"]) == (str(person), f"SA-{n}")
    assert body["erased"] is False
    state = body["current_state"]
    assert (state["given_name"], state["family_name"]) == ("Rahma", "Idriss")
    assert state["biometric_reference"] == f"BIO-SA-{n}" and state["status"] == "held"
    actions = [e["action"] for e in body["history"]["events"]]
    assert actions[0] == "registered" and {"held", "duplicate_merged"} <= set(actions)
    assert body["history"]["events"][0]["state"]["given_name"] == "Rahma"
    assert list(body["history"]["duplicates"]) == [str(duplicate)]
    assert body["household"]["household_id"] == household
    assert body["household"]["relationship"] == "focal_point"
    members = {m["person_id"]: m["relationship"] for m in body["household"]["members"]}
    assert members == {str(person): "focal_point", str(child): "child"}
    assert "site_code" not in body["household"]["members"][0]  # the others' whereabouts
    assert str(look_alike) in {p["other_id"] for p in body["duplicate_candidates"]}
    audited = {(e["subject_id"], e["action"]) for e in body["audit_log"]}
    assert {
        (str(person), "person.registered"),
        (str(person), "person.held"),
        (str(duplicate), "person.merged_into"),
    } <= audited
    assert {e["subject_id"] for e in body["audit_log"]} == {str(person), str(duplicate)}
    hold = next(e for e in body["audit_log"] if e["action"] == "person.held")
    assert (hold["order_reference"], hold["reason"]) == (f"ORD-{n}", "interview")

    # The trail lists the earlier read and the export itself (the merged record's last).
    trail = [(e["person_id"], e["actor"], e["purpose"]) for e in body["access_trail"]]
    assert (str(person), registrar, "GET /persons/{id}") in trail
    assert trail[-1] == (str(duplicate), dpo, PURPOSE)
    own = next(e for e in body["access_trail"] if e["id"] == body["export_entry"])
    assert (own["person_id"], own["actor"], own["purpose"]) == (str(person), dpo, PURPOSE)
    assert _trail(api, person)[-2:] == [(registrar, "GET /persons/{id}"), (dpo, PURPOSE)]
    assert _trail(api, duplicate) == [(dpo, PURPOSE)]


def test_an_erased_persons_export_says_so_and_holds_none_of_their_personal_values(
    api: Api,
) -> None:
    n = api.unique()
    site = api.open_site()
    person = _register(
        api, site, f"SE-{n}", given_name="Zubaida", family_name=f"Qarawi{'x' * (n % 5)}",
        biometric_reference=f"BIO-SE-{n}", date_of_birth="1941-03-09", estimated_age=None,
    )  # fmt: skip
    dpo = api.auth("data_protection_officer")
    erased = api.client.post(
        f"{PREFIX}/persons/{person}/erasure", json={"basis": "subject_request"}, headers=dpo
    )
    assert erased.status_code == 200, erased.text
    api.wait()

    answer = api.client.get(f"{PREFIX}/persons/{person}/subject-export", headers=dpo)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["erased"] is True and body["registration_number"] == f"SE-{n}"
    state = body["current_state"]
    for field in ("given_name", "family_name", "date_of_birth", "biometric_reference"):
        assert state[field] is None, field
    assert state["sex"] == "female" and state["erased"] is True
    assert body["history"]["events"][-1]["action"] == "personal_data_erased"
    for value in ("Zubaida", "Qarawi", f"BIO-SE-{n}", "1941-03-09"):
        assert value not in answer.text
    assert body["access_trail"][-1]["id"] == body["export_entry"]


@pytest.mark.parametrize(
    ("role", "scoped", "code"),
    [
        ("registrar", False, "forbidden"),
        ("site_manager", False, "forbidden"),
        ("auditor", False, "forbidden"),
        ("monitor", False, "forbidden"),
        ("data_protection_officer", True, "out-of-scope"),
        ("admin", True, "out-of-scope"),
    ],
)
def test_only_an_unscoped_data_protection_officer_or_admin_exports(
    api: Api, role: str, scoped: bool, code: str
) -> None:
    site = api.open_site()
    person = api.person(site)
    api.wait()
    before = api.writes()
    answer = api.client.get(
        f"{PREFIX}/persons/{person}/subject-export",
        headers=api.auth(role, [site] if scoped else []),
    )
    assert_problem(answer, 403, code)
    assert "Amina" not in answer.text
    assert api.writes() == before


def test_the_administrator_exports_too(api: Api) -> None:
    person = api.person(api.open_site())
    api.wait()
    body = _export(api, person, api.auth("admin"))
    assert body["current_state"]["given_name"] == "Amina"


def test_an_unknown_person_is_404_and_nothing_is_recorded(api: Api) -> None:
    before = api.writes()
    unknown = UUID(int=api.unique() + 1)
    answer = api.client.get(
        f"{PREFIX}/persons/{unknown}/subject-export", headers=api.auth("data_protection_officer")
    )
    assert_problem(answer, 404, "person-not-found")
    assert api.writes() == before


def test_the_document_is_declared_in_openapi(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    operation = document["paths"][f"{PREFIX}/persons/{{person_id}}/subject-export"]["get"]
    assert operation["operationId"] == "exportSubjectData"
    assert {"401", "403", "404"} <= set(operation["responses"])
    ok = operation["responses"]["200"]
    assert ok["headers"]["Cache-Control"]["required"] is True
    schema = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    declared = set(document["components"]["schemas"][schema]["properties"])
    assert {"person_id", "current_state", "history", "access_trail", "audit_log"} <= declared


# --- the command line --------------------------------------------------------------------


@pytest.fixture
def cli(api: Api, api_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", api_database_url)
    return api


def test_the_command_prints_the_export_by_registration_number_and_records_it(cli: Api) -> None:
    n = cli.unique()
    site = cli.open_site()
    person = cli.person(site, registration_number=f"CL-{n}", given_name="Nafisa")
    cli.wait()
    result = runner.invoke(app, ["subject-export", f"CL-{n}", "--actor", f"dpo-cli-{n}"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["person_id"] == str(person) and body["current_state"]["given_name"] == "Nafisa"
    assert body["exported_by"] == f"dpo-cli-{n}" and body["purpose"] == "subject-export"
    assert body["access_trail"][-1]["id"] == body["export_entry"]
    assert _trail(cli, person) == [(f"dpo-cli-{n}", "subject-export")]


def test_the_command_writes_a_file_only_its_owner_reads(cli: Api, tmp_path: Path) -> None:
    n = cli.unique()
    person = cli.person(cli.open_site(), registration_number=f"CF-{n}")
    cli.wait()
    target = tmp_path / "export.json"
    target.write_text("old")
    target.chmod(0o644)  # an existing file is narrowed, not written as it was
    result = runner.invoke(app, ["subject-export", str(person), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    body = json.loads(target.read_text())
    assert body["person_id"] == str(person)
    assert "Amina" not in result.stdout and str(body["export_entry"]) in result.stdout
    (actor, purpose) = _trail(cli, person)[-1]
    assert actor.startswith("cli:") and purpose == "subject-export"


def test_the_command_finds_an_erased_person_by_the_number_on_their_card(cli: Api) -> None:
    n = cli.unique()
    person = cli.person(cli.open_site(), registration_number=f"CE-{n}")
    cli.registry.erase_personal_data(person_id=person, basis="subject_request", actor="dpo")
    cli.wait()
    result = runner.invoke(app, ["subject-export", f"CE-{n}"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["person_id"] == str(person) and body["erased"] is True
    assert body["current_state"]["given_name"] is None and "Amina" not in result.stdout


@pytest.mark.parametrize("named", ["id", "number"])
def test_the_command_exits_3_for_no_such_person_and_writes_nothing(
    cli: Api, tmp_path: Path, named: str
) -> None:
    before = cli.writes()
    person = str(UUID(int=cli.unique() + 7)) if named == "id" else "NOBODY-1"
    target = tmp_path / "export.json"
    result = runner.invoke(app, ["subject-export", person, "-o", str(target)])
    assert result.exit_code == 3, result.output
    assert result.stdout == "" and "no person" in result.stderr
    assert not target.exists()
    assert cli.writes() == before


def test_the_command_refuses_a_file_it_cannot_write_before_reading_anything(
    cli: Api, tmp_path: Path
) -> None:
    person = cli.person(cli.open_site())
    cli.wait()
    before = cli.writes()
    result = runner.invoke(
        app, ["subject-export", str(person), "-o", str(tmp_path / "missing" / "x.json")]
    )
    assert result.exit_code == 1, result.output
    assert "cannot write" in result.stderr and result.stdout == ""
    assert cli.writes() == before


def test_each_export_is_on_the_trail_the_next_one_lists(api: Api) -> None:
    person = api.person(api.open_site())
    api.wait()
    dpo = api.auth("data_protection_officer")
    first = _export(api, person, dpo)
    second = _export(api, person, dpo)
    assert second["export_entry"] > first["export_entry"]
    ids = [e["id"] for e in second["access_trail"]]
    assert ids == [first["export_entry"], second["export_entry"]]


def test_an_export_that_fails_midway_leaves_no_entry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording and reading are one transaction: only exports that answered are on the
    trail."""
    person = api.person(api.open_site())
    api.wait()

    def broken(*_: Any) -> list[dict[str, Any]]:
        raise RuntimeError("the duplicates model went away")

    monkeypatch.setattr(subject_access, "duplicate_candidates", broken)
    before = api.writes()
    with (
        psycopg.connect(api.backend.database_url, autocommit=True) as conn,
        pytest.raises(RuntimeError),
    ):
        subject_access.export_subject(
            api.registry, conn, person, actor="dpo", purpose="subject-export"
        )
    assert api.writes() == before
