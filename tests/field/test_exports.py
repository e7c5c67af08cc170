"""HXL exports of occupancy, flows and nationalities: parsed and validated with libhxl,
aggregates only, small counts suppressed on request, HDX metadata beside each."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import hxl
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from campledger.api.cli.main import app as cli
from campledger.api.cli.shared import CONFIGURATION_REFUSED
from campledger.api.composition import Backend
from campledger.api.http.app import create_app
from campledger.api.services.hxl import Kind, columns
from campledger.api.settings import Settings
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from tests.api.conftest import SETUP_ACTOR, Api, api, api_database_url, assert_problem

__all__ = ["api", "api_database_url"]  # fixtures

runner = CliRunner()
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)

# What a person is made of: none of it may appear in an aggregate export.
PERSONAL = (
    "registration", "given", "family", "name_of", "birth", "biometric", "person",
    "relationship",
)  # fmt: skip
AGGREGATE_HASHTAGS = (
    "#date", "#country", "#loc", "#adm1", "#adm2", "#geo", "#capacity", "#affected",
)  # fmt: skip
R = "#affected+refugees+ind"  # people of the caseload (CAMPLEDGER_CASELOAD's default)
OCCUPANCY_COLUMNS = columns(Kind.OCCUPANCY, "refugees")
FLOW_COLUMNS = columns(Kind.FLOWS, "refugees")
NATIONALITY_COLUMNS = columns(Kind.NATIONALITIES, "refugees")

# The schema a partner would hold us to: numbers where HXL counts, dates as dates, every
# row placed by site code, head counts never negative.
SCHEMA = [
    ["#valid_tag", "#valid_severity", "#valid_datatype", "#valid_required", "#valid_value+min"],
    ["#date", "error", "date", "true", ""],
    ["#affected", "error", "number", "", "0"],
    ["#country+code", "error", "text", "", ""],
    ["#capacity", "error", "number", "", "0"],
    ["#geo+lat", "error", "number", "", "-90"],
    ["#geo+lon", "error", "number", "", "-180"],
    ["#loc+code", "error", "text", "true", ""],
    ["#adm1+code", "error", "text", "", ""],
]


def parse(text: str) -> hxl.model.Dataset:
    return hxl.data(list(csv.reader(io.StringIO(text)))).cache()


def validation_errors(dataset: hxl.model.Dataset) -> list[str]:
    found: list[str] = []
    schema = hxl.schema(SCHEMA, callback=lambda e: found.append(f"{e.rule.tag_pattern}: {e}"))
    assert schema.validate(dataset) == (not found)
    return found


def assert_aggregates_only(text: str, sites: int | None = None) -> None:
    header, hashtags, *rows = list(csv.reader(io.StringIO(text)))
    assert all(tag.startswith(AGGREGATE_HASHTAGS) for tag in hashtags), hashtags
    lowered = " ".join(header).lower().replace(" ", "_")
    assert not [word for word in PERSONAL if word in lowered], header
    if sites is not None:
        assert len(rows) == sites


def sex_age(
    number: str, sex: str, age: int, nationality: str = "SDN", household: str | None = None
) -> Arrival:
    return Arrival(
        registration_number=number,
        given_name="Amina",
        family_name="Haroun",
        sex=sex,
        nationality=nationality,
        estimated_age=age,
        household_id=household,
        relationship="other_relative" if household else None,
    )


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, str]:
    """Two sites with p-codes, eight people between them, and one transfer, all today."""
    camp, clinic = api.fresh_code("CAMP"), api.fresh_code("CLINIC")
    registry: Registry = api.registry
    for code, kind, pcodes, position in (
        (camp, "camp", ("SD01", "SD0101"), (12.5, 22.25)),
        (clinic, "hospital", ("SD02", None), (None, None)),
    ):
        registry.open_site(
            code=code, name=f"Site {code}", kind=kind, capacity=100,
            admin1_pcode=pcodes[0], admin2_pcode=pcodes[1],
            latitude=position[0], longitude=position[1], actor=SETUP_ACTOR,
        )  # fmt: skip
    # Two households (three people without one); six Sudanese, one Central African.
    people = [
        ("female", 2, "SDN", "H1"), ("female", 3, "SDN", "H1"), ("female", 30, "SDN", "H1"),
        ("male", 8, "SDN", "H2"), ("male", 15, "CAF", None), ("male", 61, "SDN", None),
        ("unknown", 40, "SDN", None),
    ]  # fmt: skip
    result = registry.register_arrivals(
        site_code=camp,
        arrivals=[
            sex_age(f"{camp}-{i}", s, a, n, h and f"{camp}-{h}")
            for i, (s, a, n, h) in enumerate(people)
        ],
        actor=SETUP_ACTOR,
    )
    moved = UUID(result.result["person_ids"][2])
    registry.register_arrivals(
        site_code=clinic,
        arrivals=[sex_age(f"{clinic}-0", "female", 70)],
        actor=SETUP_ACTOR,
    )
    transfer = registry.plan_transfer(
        origin=camp, destination=clinic, manifest=[moved], actor=SETUP_ACTOR
    ).result["transfer_id"]
    registry.dispatch_transfer(transfer_id=transfer, actor=SETUP_ACTOR)
    registry.receive_transfer(
        transfer_id=transfer, site_code=clinic, persons=[moved], actor=SETUP_ACTOR
    )
    api.wait()
    return {"camp": camp, "clinic": clinic}


def get(
    api: Api, path: str, role: str = "site_manager", sites: tuple[str, ...] = (), **params: Any
) -> Any:
    return api.client.get(f"/api/v1/sites/{path}", params=params, headers=api.auth(role, sites))


def test_occupancy_parses_and_validates_as_hxl(api: Api, world: dict[str, str]) -> None:
    response = get(api, "occupancy.hxl.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "occupancy.hxl.csv" in response.headers["content-disposition"]
    dataset = parse(response.text)
    assert [c.display_tag for c in dataset.columns] == [
        hxl.model.Column.parse(c.hashtag).display_tag for c in OCCUPANCY_COLUMNS
    ]
    assert validation_errors(dataset) == []
    rows = {row.get("#loc+code"): row for row in dataset}
    camp = rows[world["camp"]]
    assert camp.get("#date+reported") == TODAY.isoformat()
    assert camp.get("#country+code") == "SDN"  # from the p-codes' ISO 3166 prefix
    assert camp.get("#adm1+code") == "SD01" and camp.get("#adm2+code") == "SD0101"
    assert float(camp.get("#geo+lat")) == 12.5
    assert camp.get(f"{R}+total") == "6"
    assert camp.get("#affected+refugees+hh") == "2"
    assert camp.get(f"{R}+f+infants+age0_4") == "2"
    assert camp.get(f"{R}+f+adults+age18_59") == "0"  # transferred to the clinic
    assert camp.get(f"{R}+m+children+age5_11") == "1"
    assert camp.get(f"{R}+m+adolescents+age12_17") == "1"
    assert camp.get(f"{R}+m+elderly+age60plus") == "1"
    assert camp.get(f"{R}+unknown_sex+total") == "1"
    clinic = rows[world["clinic"]]
    assert clinic.get(f"{R}+f+total") == "2"
    assert clinic.get("#affected+refugees+hh") == "1"  # the transferred member's household
    assert clinic.get("#adm2+code") in ("", None)


def test_occupancy_figures_are_the_json_figures(api: Api, world: dict[str, str]) -> None:
    figures = get(api, f"{world['camp']}/occupancy").json()
    row = next(
        r for r in parse(get(api, "occupancy.hxl.csv").text) if r.get("#loc+code") == world["camp"]
    )
    assert int(row.get(f"{R}+total")) == figures["total"]
    assert int(row.get("#capacity")) == figures["capacity"]
    for sex, attribute in (("female", "f"), ("male", "m")):
        cells = [int(v) for v in row.get_all(f"{R}+{attribute}-total")]
        assert sum(cells) == figures["by_sex"][sex]


def test_occupancy_holds_site_figures_only_never_persons(api: Api, world: dict[str, str]) -> None:
    text = get(api, "occupancy.hxl.csv", role="registrar", sites=(world["camp"],)).text
    assert_aggregates_only(text, sites=1)
    assert world["camp"] in text and world["clinic"] not in text
    assert "Amina" not in text and "Haroun" not in text


def test_flows_parse_and_validate_with_dates_as_dates(api: Api, world: dict[str, str]) -> None:
    response = get(api, "flows.hxl.csv", start=str(YESTERDAY), end=str(TODAY))
    assert response.status_code == 200, response.text
    dataset = parse(response.text)
    assert [c.display_tag for c in dataset.columns] == [
        hxl.model.Column.parse(c.hashtag).display_tag for c in FLOW_COLUMNS
    ]
    assert validation_errors(dataset) == []
    mine = {r.get("#loc+code"): r for r in dataset if r.get("#loc+code") in world.values()}
    camp, clinic = mine[world["camp"]], mine[world["clinic"]]
    assert camp.get("#date+occurred") == TODAY.isoformat() and camp.get("#adm1+code") == "SD01"
    assert (camp.get(f"{R}+arrived"), camp.get(f"{R}+transfer_out")) == ("7", "1")
    assert (clinic.get(f"{R}+arrived"), clinic.get(f"{R}+transfer_in")) == ("1", "1")
    assert clinic.get(f"{R}+departed") == "0"
    assert_aggregates_only(response.text)


def test_a_schema_catches_what_it_should(api: Api, world: dict[str, str]) -> None:
    """The validation above can fail: a count that is not a number, a date that is not one."""
    text = get(api, "flows.hxl.csv", start=str(TODAY), end=str(TODAY)).text
    header, hashtags, first, *rest = list(csv.reader(io.StringIO(text)))
    broken = [*first]
    broken[0], broken[hashtags.index(f"{R}+arrived")] = "last week", "seven"
    found = validation_errors(hxl.data([header, hashtags, broken, *rest]).cache())
    assert any("#date" in e for e in found) and any("#affected" in e for e in found)


def test_flows_need_a_valid_range_and_a_token(api: Api, world: dict[str, str]) -> None:
    assert_problem(
        get(api, "flows.hxl.csv", start=str(TODAY), end=str(YESTERDAY)), 400, "bad-query"
    )
    response = api.client.get("/api/v1/sites/occupancy.hxl.csv")
    assert_problem(response, 401, "unauthorised")


def test_the_default_hxl_schema_finds_no_errors(api: Api, world: dict[str, str]) -> None:
    report = hxl.validate(parse(get(api, "occupancy.hxl.csv").text))
    errors = [i for i in report["issues"] if i["rule"]["severity"] == "error"]
    assert errors == []


def test_nationalities_are_counted_per_site_with_iso_codes(api: Api, world: dict[str, str]) -> None:
    response = get(api, "nationalities.hxl.csv")
    assert response.status_code == 200, response.text
    assert "nationalities.hxl.csv" in response.headers["content-disposition"]
    dataset = parse(response.text)
    assert [c.display_tag for c in dataset.columns] == [
        hxl.model.Column.parse(c.hashtag).display_tag for c in NATIONALITY_COLUMNS
    ]
    assert validation_errors(dataset) == []
    assert hxl.validate(dataset)["is_valid"]
    mine = {
        (r.get("#loc+code"), r.get("#country+code+origin")): r.get(R)
        for r in dataset
        if r.get("#loc+code") in world.values()
    }
    assert mine == {
        (world["camp"], "CAF"): "1", (world["camp"], "SDN"): "5", (world["clinic"], "SDN"): "2",
    }  # fmt: skip
    assert_aggregates_only(response.text)
    scoped = get(api, "nationalities.hxl.csv", role="registrar", sites=(world["clinic"],)).text
    assert world["camp"] not in scoped and world["clinic"] in scoped


def blanks(text: str, code: str) -> dict[str, str]:
    """The site's row, by hashtag."""
    _, hashtags, *rows = list(csv.reader(io.StringIO(text)))
    [row] = [r for r in rows if r[hashtags.index("#loc+code")] == code]
    return dict(zip(hashtags, row, strict=True))


def test_small_counts_are_blanked_with_what_would_give_them_back(
    api: Api, world: dict[str, str]
) -> None:
    plain = blanks(get(api, "occupancy.hxl.csv").text, world["camp"])
    response = get(api, "occupancy.hxl.csv", suppress_below=5)
    assert response.status_code == 200, response.text
    camp = blanks(response.text, world["camp"])
    for tag, value in plain.items():
        if tag.startswith("#affected") and 0 < int(value) < 5:
            assert camp[tag] == "", tag  # every count from 1 to 4
    assert camp[f"{R}+total"] == "6" and camp[f"{R}+f+adults+age18_59"] == "0"
    # The total is published; the sexes' totals under it are 2, 3 and 1: all blanked, so
    # no two of them give the third back.
    assert [camp[f"{R}+{s}+total"] for s in ("f", "m", "unknown_sex")] == ["", "", ""]
    dataset = parse(response.text)
    assert validation_errors(dataset) == []
    # The nationalities: CAF 1 is blanked, and SDN 5 with it (the camp's total of 6 is
    # published in the occupancy export, 6 - 5 would give the 1 back).
    nationalities = parse(get(api, "nationalities.hxl.csv", suppress_below=2).text)
    camp_counts = {
        r.get("#country+code+origin"): r.get(R)
        for r in nationalities
        if r.get("#loc+code") == world["camp"]
    }
    assert camp_counts == {"CAF": None, "SDN": None}  # libhxl reads a blank as None
    flows = get(api, "flows.hxl.csv", start=str(TODAY), end=str(TODAY), suppress_below=3)
    clinic = blanks(flows.text, world["clinic"])
    assert (clinic[f"{R}+arrived"], clinic[f"{R}+transfer_in"]) == ("", "")
    assert blanks(flows.text, world["camp"])[f"{R}+arrived"] == "7"
    for path in ("occupancy.hxl.xlsx", "nationalities.hxl.xlsx"):
        sheet = get(api, path, suppress_below=5)
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("value", ["1", "0", "-3", "1001", "five", "2.5"])
def test_a_threshold_that_protects_nothing_is_refused(
    api: Api, world: dict[str, str], value: str
) -> None:
    for path, params in (
        ("occupancy.hxl.csv", {}),
        ("nationalities.hxl.csv", {}),
        ("flows.hxl.csv", {"start": str(TODAY), "end": str(TODAY)}),
        ("occupancy.hxl.xlsx", {}),
        ("nationalities.hxl.xlsx", {}),
        ("flows.hxl.xlsx", {"start": str(TODAY), "end": str(TODAY)}),
        ("occupancy.hdx.json", {}),
    ):
        response = get(api, path, suppress_below=value, **params)
        assert response.status_code == 422, (path, value)
        assert "suppress_below" in response.text


def test_the_threshold_is_stated_in_the_openapi_document(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    for path in (
        "/api/v1/sites/occupancy.hxl.csv", "/api/v1/sites/flows.hxl.csv",
        "/api/v1/sites/nationalities.hxl.csv", "/api/v1/sites/occupancy.hxl.xlsx",
        "/api/v1/sites/flows.hxl.xlsx", "/api/v1/sites/nationalities.hxl.xlsx",
        "/api/v1/sites/{export}.hdx.json",
    ):  # fmt: skip
        [parameter] = [
            p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "suppress_below"
        ]
        options = parameter["schema"].get("anyOf", [parameter["schema"]])
        [schema] = [o for o in options if "minimum" in o]
        assert (schema["minimum"], schema["maximum"]) == (2, 1000), path
        assert "blank" in parameter["description"]


def test_each_export_has_its_hdx_metadata(api: Api, world: dict[str, str]) -> None:
    occupancy = get(api, "occupancy.hdx.json", suppress_below=5)
    assert occupancy.status_code == 200, occupancy.text
    body = occupancy.json()
    assert body["hxl_tagged"] is True and "hxl" in body["tags"] and "refugees" in body["tags"]
    assert body["license_id"] and body["methodology"] == "Registry"
    assert body["dataset_date"] == f"[{TODAY}T00:00:00 TO {TODAY}T23:59:59]"
    assert "1 to 4" in body["caveats"] and body["suppress_below"] == 5
    assert body["resources"] == [{"name": "occupancy.hxl.csv", "format": "CSV", "hxl_tagged": True}]
    flows = get(api, "flows.hdx.json", start=str(YESTERDAY), end=str(TODAY)).json()
    assert flows["dataset_date"] == f"[{YESTERDAY}T00:00:00 TO {TODAY}T23:59:59]"
    assert "No small count was suppressed" in flows["caveats"]
    assert "ICAO" in get(api, "nationalities.hdx.json").json()["caveats"]
    assert_problem(get(api, "flows.hdx.json"), 400, "bad-query")
    assert_problem(
        get(api, "flows.hdx.json", start=str(TODAY), end=str(YESTERDAY)), 400, "bad-query"
    )
    assert get(api, "roster.hdx.json").status_code == 422
    assert_problem(api.client.get("/api/v1/sites/occupancy.hdx.json"), 401, "unauthorised")


@pytest.fixture(scope="module")
def far_east(api: Api, api_database_url: str) -> Iterator[TestClient]:
    """The same database served with the operation 14 hours ahead of UTC, for IDPs."""
    settings = Settings(
        database_url=api_database_url, operation_timezone="Pacific/Kiritimati", caseload="idps"
    )
    backend = Backend(settings, api_database_url, api.backend.registry)
    with TestClient(create_app(backend, run_projector=False)) as client:
        yield client


def test_days_are_the_operation_time_zones_and_the_caseload_its_setting(
    api: Api, world: dict[str, str], far_east: TestClient
) -> None:
    zone = ZoneInfo("Pacific/Kiritimati")
    local = datetime.now(zone).date()
    days = {"start": str(local - timedelta(days=1)), "end": str(local + timedelta(days=1))}
    headers = api.auth("site_manager")
    text = far_east.get("/api/v1/sites/flows.hxl.csv", params=days, headers=headers).text
    camp = blanks(text, world["camp"])
    # Registered a moment ago: the day that moment has in Kiritimati.
    assert camp["#date+occurred"] == str(local)
    assert camp["#affected+idps+ind+arrived"] == "7"
    listed = far_east.get(f"/api/v1/sites/{world['camp']}/flows", params=days, headers=headers)
    assert [r["day"] for r in listed.json()["items"]] == [str(local)]
    occupancy = far_east.get("/api/v1/sites/occupancy.hxl.csv", headers=headers).text
    assert blanks(occupancy, world["camp"])["#date+reported"] == str(local)
    assert "#affected+refugees" not in occupancy and "#affected+idps+ind+total" in occupancy
    metadata = far_east.get("/api/v1/sites/occupancy.hdx.json", headers=headers).json()
    assert metadata["time_zone"] == "Pacific/Kiritimati"
    assert "internally displaced persons-idp" in metadata["tags"]


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def projected(
    database_url: str, library_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    params = conninfo_to_dict(database_url)
    host, user = str(params.get("host", "")), params.get("user", "postgres")
    if host.startswith("/"):
        url = f"postgresql://{user}@/{params['dbname']}?host={host}"
    else:
        url = f"postgresql://{user}@{host}:{params.get('port', 5432)}/{params['dbname']}"
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", url)
    registry = Registry(env=library_env)
    try:
        registry.open_site(
            code="RC-X", name="Reception X", kind="reception", capacity=10, admin1_pcode="SD03",
            actor="setup",
        )  # fmt: skip
        registry.register_arrivals(
            site_code="RC-X", arrivals=[sex_age("X-1", "male", 1)], actor="setup"
        )
    finally:
        registry.close()
    with Projector(database_url) as projector:
        projector.catch_up()
    yield database_url


def test_cli_exports_occupancy_and_flows_with_or_without_hashtags(projected: str) -> None:
    tagged = runner.invoke(cli, ["export", "occupancy", "--hxl"])
    assert tagged.exit_code == 0, tagged.output
    [row] = list(parse(tagged.stdout))
    assert (row.get("#loc+code"), row.get("#adm1+code")) == ("RC-X", "SD03")
    assert row.get(f"{R}+m+infants+age0_4") == "1"
    plain = runner.invoke(cli, ["export", "occupancy"])
    assert list(csv.reader(io.StringIO(plain.stdout)))[1][0] == TODAY.isoformat()
    flows = runner.invoke(
        cli, ["export", "flows", "--start", str(TODAY), "--end", str(TODAY), "--hxl"]
    )
    assert flows.exit_code == 0, flows.output
    assert validation_errors(parse(flows.stdout)) == []
    backwards = runner.invoke(
        cli, ["export", "flows", "--start", str(TODAY), "--end", str(date(2000, 1, 1))]
    )
    assert backwards.exit_code == 2


def test_cli_exports_nationalities_suppressed_and_their_metadata(
    projected: str, tmp_path: Path
) -> None:
    nationalities = runner.invoke(cli, ["export", "nationalities", "--hxl"])
    assert nationalities.exit_code == 0, nationalities.output
    [row] = list(parse(nationalities.stdout))
    assert (row.get("#country+code+origin"), row.get(R)) == ("SDN", "1")
    blanked = runner.invoke(cli, ["export", "occupancy", "--hxl", "--suppress-below", "2"])
    assert blanked.exit_code == 0, blanked.output
    cells = blanks(blanked.stdout, "RC-X")  # libhxl's get would skip a blank cell
    assert cells[f"{R}+total"] == "" and cells[f"{R}+m+infants+age0_4"] == ""
    out = tmp_path / "flows.json"
    metadata = runner.invoke(
        cli,
        ["export", "flows", "--start", str(TODAY), "--end", str(TODAY), "--hdx-metadata",
         "--suppress-below", "5", "-o", str(out)],
    )  # fmt: skip
    assert metadata.exit_code == 0, metadata.output
    assert json.loads(out.read_text())["resources"][0]["name"] == f"flows-{TODAY}-{TODAY}.hxl.csv"


@pytest.mark.parametrize("value", ["1", "0", "-2", "many"])
def test_cli_refuses_a_bad_threshold_and_writes_nothing(
    projected: str, tmp_path: Path, value: str
) -> None:
    out = tmp_path / "occupancy.csv"
    result = runner.invoke(
        cli, ["export", "occupancy", "--hxl", "--suppress-below", value, "-o", str(out)]
    )
    assert result.exit_code == 2
    assert "--suppress-below" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CAMPLEDGER_OPERATION_TIMEZONE", "Mars/Olympus"), ("CAMPLEDGER_CASELOAD", "migrants")],
)
def test_cli_refuses_a_bad_zone_or_caseload_and_writes_nothing(
    projected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    out = tmp_path / "flows.csv"
    result = runner.invoke(
        cli, ["export", "flows", "--start", str(TODAY), "--end", str(TODAY), "-o", str(out)]
    )
    assert result.exit_code == CONFIGURATION_REFUSED
    assert f"invalid setting {variable}" in result.output
    assert value not in result.output  # values are never echoed
    assert not out.exists()


def test_cli_counts_days_in_the_operation_time_zone(
    projected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered a moment ago: in a zone 14 hours ahead or 11 behind UTC, the day of that
    # moment is the day the flows name.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        monkeypatch.setenv("CAMPLEDGER_OPERATION_TIMEZONE", zone)
        local = datetime.now(ZoneInfo(zone)).date()
        days = (str(local - timedelta(days=1)), str(local + timedelta(days=1)))
        result = runner.invoke(cli, ["export", "flows", "--start", days[0], "--end", days[1]])
        assert result.exit_code == 0, result.output
        [row] = list(csv.DictReader(io.StringIO(result.stdout)))
        assert (row["Date"], row["Arrivals"]) == (str(local), "1")
