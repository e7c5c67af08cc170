"""HXL exports of occupancy and flows: parsed and validated with libhxl, aggregates only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import hxl
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from campledger.api.cli.main import app as cli
from campledger.api.services.hxl import FLOW_COLUMNS, OCCUPANCY_COLUMNS
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
    "registration", "given", "family", "name_of", "birth", "biometric", "person", "household",
    "relationship", "nationality",
)  # fmt: skip
AGGREGATE_HASHTAGS = ("#date", "#loc", "#adm1", "#adm2", "#geo", "#capacity", "#population")

# The schema a partner would hold us to: numbers where HXL counts, dates as dates, every
# row placed by site code, head counts never negative.
SCHEMA = [
    ["#valid_tag", "#valid_severity", "#valid_datatype", "#valid_required", "#valid_value+min"],
    ["#date", "error", "date", "true", ""],
    ["#population", "error", "number", "true", "0"],
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


def sex_age(number: str, sex: str, age: int) -> Arrival:
    return Arrival(
        registration_number=number,
        given_name="Amina",
        family_name="Haroun",
        sex=sex,
        nationality="SDN",
        estimated_age=age,
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
    people = [
        ("female", 2), ("female", 3), ("female", 30), ("male", 8), ("male", 15),
        ("male", 61), ("unknown", 40),
    ]  # fmt: skip
    result = registry.register_arrivals(
        site_code=camp,
        arrivals=[sex_age(f"{camp}-{i}", s, a) for i, (s, a) in enumerate(people)],
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
    assert camp.get("#date") == TODAY.isoformat()
    assert camp.get("#adm1+code") == "SD01" and camp.get("#adm2+code") == "SD0101"
    assert float(camp.get("#geo+lat")) == 12.5
    assert camp.get("#population+total") == "6"
    assert camp.get("#population+f+infants+age0_4") == "2"
    assert camp.get("#population+f+adults+age18_59") == "0"  # transferred to the clinic
    assert camp.get("#population+m+children+age5_11") == "1"
    assert camp.get("#population+m+adolescents+age12_17") == "1"
    assert camp.get("#population+m+elderly+age60plus") == "1"
    assert camp.get("#population+unknown_sex+total") == "1"
    clinic = rows[world["clinic"]]
    assert clinic.get("#population+f+total") == "2"
    assert clinic.get("#adm2+code") in ("", None)


def test_occupancy_figures_are_the_json_figures(api: Api, world: dict[str, str]) -> None:
    figures = get(api, f"{world['camp']}/occupancy").json()
    row = next(
        r for r in parse(get(api, "occupancy.hxl.csv").text) if r.get("#loc+code") == world["camp"]
    )
    assert int(row.get("#population+total")) == figures["total"]
    assert int(row.get("#capacity")) == figures["capacity"]
    for sex, attribute in (("female", "f"), ("male", "m")):
        cells = [int(v) for v in row.get_all(f"#population+{attribute}-total")]
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
    assert camp.get("#date") == TODAY.isoformat() and camp.get("#adm1+code") == "SD01"
    assert (camp.get("#population+arrivals"), camp.get("#population+transfers+outgoing")) == (
        "7",
        "1",
    )
    assert (clinic.get("#population+arrivals"), clinic.get("#population+transfers+incoming")) == (
        "1",
        "1",
    )
    assert_aggregates_only(response.text)


def test_a_schema_catches_what_it_should(api: Api, world: dict[str, str]) -> None:
    """The validation above can fail: a count that is not a number, a date that is not one."""
    text = get(api, "flows.hxl.csv", start=str(TODAY), end=str(TODAY)).text
    header, hashtags, first, *rest = list(csv.reader(io.StringIO(text)))
    broken = [*first]
    broken[0], broken[hashtags.index("#population+arrivals")] = "last week", "seven"
    found = validation_errors(hxl.data([header, hashtags, broken, *rest]).cache())
    assert any("#date" in e for e in found) and any("#population" in e for e in found)


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
    assert row.get("#population+m+infants+age0_4") == "1"
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
