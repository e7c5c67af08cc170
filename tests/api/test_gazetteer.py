"""P-codes against a loaded COD gazetteer: the file read, the check on opening a site (over
HTTP, as the console and every way in), and ``campledger gazetteer load`` refusing a bad
file with nothing stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.api.database.gazetteer import Area
from campledger.api.services import gazetteer
from campledger.api.services.gazetteer import BadGazetteerLine, check_site_areas, read_cod
from campledger.domain.model import errors
from tests.api.conftest import PREFIX, Api, assert_problem
from tests.reliability.support import as_url

# The columns of OCHA's COD-AB table for Chad, a few of its rows (Ouaddaï, Sila).
CHAD = """ADM2_EN,ADM2_PCODE,ADM2_REF,ADM1_EN,ADM1_PCODE,ADM0_EN,ADM0_PCODE,date,validOn
Assoungha,TD0901,,Ouaddaï,TD09,Chad (le),TD,2018-12-01,2019-02-06
Abdi,TD0902,,Ouaddaï,TD09,Chad (le),TD,2018-12-01,2019-02-06
Ouara,TD0903,,Ouaddaï,TD09,Chad (le),TD,2018-12-01,2019-02-06
Djourf Al Ahmar,TD2001,,Sila,TD20,Chad (le),TD,2018-12-01,2019-02-06
""".splitlines()


class Loaded:
    """A gazetteer in memory: the check needs no database."""

    def __init__(self, areas: list[Area]) -> None:
        self.areas = {a.pcode: a for a in areas}

    def covers(self, country: str) -> bool:
        return any(a.country == country for a in self.areas.values())

    def area(self, pcode: str) -> Area | None:
        return self.areas.get(pcode)


def test_a_cod_table_gives_each_admin1_once_and_each_admin2_under_it() -> None:
    areas = {a.pcode: a for a in read_cod(CHAD)}
    assert set(areas) == {"TD09", "TD0901", "TD0902", "TD0903", "TD20", "TD2001"}
    assert areas["TD09"] == Area("TD09", "TD", 1, None, "Ouaddaï")
    assert areas["TD2001"] == Area("TD2001", "TD", 2, "TD20", "Djourf Al Ahmar")


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("X,TD0901,,Y,QQ09,,,,", "ADM1_PCODE", "ISO 3166-1"),
        ("X,TD2101,,Y,TD09,,,,", "ADM2_PCODE", "does not start with its admin1"),
        ("X,,,Y,,,,,", "ADM1_PCODE", "every row names its admin1"),
    ],
)
def test_a_bad_line_of_the_table_is_named_by_line_and_column(
    line: str, column: str, words: str
) -> None:
    with pytest.raises(BadGazetteerLine) as info:
        read_cod([*CHAD, line])
    assert (info.value.line, info.value.column) == (6, column)
    assert words in info.value.message


def test_a_table_without_admin1_pcodes_is_refused_at_its_header() -> None:
    with pytest.raises(BadGazetteerLine) as info:
        read_cod(["name,pcode", "Ouaddaï,TD09"])
    assert (info.value.line, info.value.column) == (1, "header")


@pytest.mark.parametrize(
    ("admin1", "admin2", "refusal", "field"),
    [
        ("TD07", None, errors.UnknownPcode, "admin1_pcode"),
        ("TD09", "TD0999", errors.UnknownPcode, "admin2_pcode"),
        ("TD0901", None, errors.UnknownPcode, "admin1_pcode"),  # an admin2 given as admin1
        ("TD09", "TD2001", errors.Admin2OutsideAdmin1, "admin2_pcode"),  # by shape
        (None, "TD09", errors.UnknownPcode, "admin2_pcode"),
    ],
)
def test_pcodes_the_loaded_gazetteer_does_not_hold_are_refused(
    admin1: str | None, admin2: str | None, refusal: type[errors.DomainError], field: str
) -> None:
    with pytest.raises(refusal) as info:
        check_site_areas(Loaded(read_cod(CHAD)), admin1, admin2)
    assert info.value.details == {"field": field}


def test_an_admin2_under_another_admin1_in_the_gazetteer_is_refused() -> None:
    # Shaped as if under TD09, but the gazetteer files it elsewhere.
    odd = [*CHAD, "Odd,TD0904,,Sila,TD09,,,,"]
    areas = [
        a if a.pcode != "TD0904" else Area("TD0904", "TD", 2, "TD20", "Odd") for a in read_cod(odd)
    ]
    with pytest.raises(errors.Admin2OutsideAdmin1, match="lies under TD20"):
        check_site_areas(Loaded(areas), "TD09", "TD0904")


def test_known_pcodes_and_countries_without_a_gazetteer_pass() -> None:
    loaded = Loaded(read_cod(CHAD))
    check_site_areas(loaded, "td09", "td0902")
    check_site_areas(loaded, None, "TD2001")
    check_site_areas(loaded, "SD01", "SD0101")  # no gazetteer of Sudan: shape only
    check_site_areas(Loaded([]), "TD07", None)


# --- over HTTP, with a gazetteer in the database -----------------------------------------


def _site(api: Api, **pcodes: Any) -> dict[str, Any]:
    return {"code": api.fresh_code("P"), "name": "Site", "kind": "camp", "capacity": 10, **pcodes}


def test_opening_a_site_checks_its_pcodes_against_the_loaded_gazetteer(api: Api) -> None:
    assert gazetteer.load(api.conn, CHAD) == {"TD": 6}
    admin = api.auth("admin")
    refusals = [
        ({"admin1_pcode": "TD07"}, "unknown-pcode", "admin1_pcode"),
        ({"admin1_pcode": "TD09", "admin2_pcode": "TD0999"}, "unknown-pcode", "admin2_pcode"),
        (
            {"admin1_pcode": "TD09", "admin2_pcode": "TD2001"},
            "admin2-outside-admin1",
            "admin2_pcode",
        ),
    ]
    for pcodes, code, field in refusals:
        before = api.writes()
        response = api.client.post(PREFIX + "/sites", json=_site(api, **pcodes), headers=admin)
        body = assert_problem(response, 422, code)
        assert body["field"] == field, body
        assert api.writes() == before, pcodes

    for pcodes in ({"admin1_pcode": "TD09", "admin2_pcode": "td0901"}, {"admin1_pcode": "SD07"}):
        response = api.client.post(PREFIX + "/sites", json=_site(api, **pcodes), headers=admin)
        assert response.status_code == 201, response.text


def test_pcode_shapes_are_refused_before_any_gazetteer(api: Api) -> None:
    admin = api.auth("admin")
    for pcodes in ({"admin1_pcode": "QQ01"}, {"admin1_pcode": "SD01", "admin2_pcode": "SD0201"}):
        before = api.writes()
        response = api.client.post(PREFIX + "/sites", json=_site(api, **pcodes), headers=admin)
        assert response.status_code == 422, response.text
        assert api.writes() == before


# --- campledger gazetteer load ------------------------------------------------------------

runner = CliRunner()


def test_the_command_loads_a_table_and_refuses_a_bad_one_storing_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url(database_url))
    good, bad = tmp_path / "tcd.csv", tmp_path / "bad.csv"
    good.write_text("\n".join(CHAD), encoding="utf-8")
    bad.write_text("\n".join([*CHAD[:2], "X,TD2101,,Y,TD09,,,,"]), encoding="utf-8")

    refused = runner.invoke(app, ["gazetteer", "load", str(bad)])
    assert refused.exit_code == ExitCode.DATA_ERROR
    assert "line 3, ADM2_PCODE" in refused.stderr and "nothing was stored" in refused.stderr
    assert refused.stdout == ""
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('gazetteer')").fetchone() == (None,)

    loaded = runner.invoke(app, ["gazetteer", "load", str(good)])
    assert loaded.exit_code == 0, loaded.stderr
    assert loaded.stdout == "TD: 6 admin areas loaded\n"
    # Loading again replaces the country's areas: a file of one area leaves one.
    again = runner.invoke(app, ["gazetteer", "load", "-", "--json"], input="\n".join(CHAD[:2]))
    assert again.exit_code == 0, again.stderr
    assert '"TD": 2' in again.stdout
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM gazetteer").fetchone() == (2,)
