"""Bulk import of arrivals: the CSV checks, the CLI on a real database, and the HTTP route."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from campledger.api.cli.main import app as cli
from campledger.api.cli.shared import ExitCode
from campledger.api.services import import_file as imports
from campledger.api.services import import_runner, import_workers
from campledger.api.services.import_checked import ArrivalFields
from campledger.api.services.import_file import (
    ImportFileError,
    _column_indices,
    arrival_template,
    read_arrivals,
)
from campledger.api.services.import_rows import COLUMNS, _RowChecker
from campledger.api.services.import_runner import import_arrivals
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from tests.api.conftest import Api, api, api_database_url, assert_problem

__all__ = ["api", "api_database_url"]  # fixtures

runner = CliRunner()
NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
SITE = "RC-IMP"

# Values that must never come back in a report: bad rows carry them.
SECRET_NAME = "Zaynab-Secret"
SECRET_BIRTH = "2999-01-01"


def csv_file(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def row(number: str, **overrides: str) -> dict[str, str]:
    base = {
        "registration_number": number,
        "given_name": "Amina",
        "family_name": "Haroun",
        "sex": "female",
        "nationality": "SDN",
        "date_of_birth": "1990-04-01",
        "household_id": "H-1",
        "relationship": "focal_point",
        "specific_needs": "",
    }
    return {**base, **overrides}


def good_rows(count: int, prefix: str = "IMP") -> list[dict[str, str]]:
    return [row(f"{prefix}-{i:05d}", biometric_reference=f"BIO-{prefix}-{i}") for i in range(count)]


def with_bad_rows() -> list[dict[str, str]]:
    """Ten rows; lines 4, 7 and 9 (rows 3, 6, 8 after the header) are bad."""
    rows = good_rows(10, "MIX")
    rows[2] = row("MIX-00002", given_name=SECRET_NAME, nationality="Sudan")
    rows[5] = row("MIX-00005", date_of_birth=SECRET_BIRTH)
    rows[7] = row("MIX-00001", sex="F")  # a second MIX-00001, and an unknown sex
    return rows


# --- the file checks, without a database ----------------------------------------------------


def test_every_bad_row_is_named_by_line_and_column_without_its_values() -> None:
    checked = read_arrivals(csv_file(with_bad_rows()), now=NOW)
    assert checked.rows == 10
    assert [g[0] for g in checked.good] == [2, 3, 5, 6, 8, 10, 11]
    found = {(p.line, p.column, p.code) for p in checked.problems}
    assert found == {
        (4, "nationality", "invalid-nationality"),
        (7, "date_of_birth", "invalid-age"),
        (9, "sex", "invalid-sex"),
    }
    text = json.dumps([p.as_dict() for p in checked.problems])
    assert SECRET_NAME not in text and SECRET_BIRTH not in text and "Sudan" not in text


def test_a_second_row_with_the_same_registration_number_is_bad() -> None:
    rows = good_rows(3)
    rows.append(row("IMP-00001"))
    checked = read_arrivals(csv_file(rows), now=NOW)
    [problem] = checked.problems
    assert (problem.line, problem.column) == (5, "registration_number")
    assert "line 3" in problem.reason
    assert len(checked.good) == 3


def test_lines_count_physical_lines_when_a_quoted_cell_spans_two() -> None:
    rows = good_rows(3)
    rows[0]["family_name"] = "Haroun\nAbakar"
    rows[2]["sex"] = "other"
    checked = read_arrivals(csv_file(rows), now=NOW)
    assert [p.line for p in checked.problems] == [5]
    assert checked.good[0][1][2] == "Haroun\nAbakar"


def test_columns_in_any_order_optional_ones_missing_and_a_byte_order_mark() -> None:
    content = (
        "\ufeffnationality,sex,given_name,registration_number,estimated_age,specific_needs\n"
        "sdn,Male,Idriss,R-1,34,sm-mn; DS\n"
    ).encode()
    checked = read_arrivals(content, now=NOW)
    assert not checked.problems
    [(line, fields)] = checked.good
    assert line == 2
    assert fields[:7] == ("R-1", "Idriss", "", "male", "SDN", None, 34)
    assert fields[10] == ("DS", "SM-MN")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"registration_number,given_name,sex,nationality\n", "no arrivals"),
        (b"registration_number,given_name,sex\nR-1,A,female\n", "nationality"),
        (f"{SECRET_NAME},Haroun,female,SDN\n".encode(), "column 1"),
        (b"registration_number,given_name,sex,nationality\n\xff\xfe,A,f,SDN\n", "UTF-8"),
    ],
)
def test_an_unusable_file_is_refused_whole_without_echoing_it(content: bytes, says: str) -> None:
    with pytest.raises(ImportFileError) as raised:
        read_arrivals(content, now=NOW)
    assert says in str(raised.value)
    assert SECRET_NAME not in str(raised.value)


TRICKY = [
    {},
    {"registration_number": "R/1.a_b-c"},
    {"registration_number": "R 1"},
    {"registration_number": "R" * 65},
    {"registration_number": "Ř-١٢"},
    {"given_name": ""},
    {"given_name": "x" * 201},
    {"family_name": "x" * 200},
    {"sex": "Unknown"},
    {"sex": "f"},
    {"nationality": "xxa"},
    {"nationality": "SD"},
    {"nationality": "QQQ"},
    {"date_of_birth": "", "estimated_age": ""},
    {"date_of_birth": "", "estimated_age": "0"},
    {"date_of_birth": "", "estimated_age": "130"},
    {"date_of_birth": "", "estimated_age": "131"},
    {"date_of_birth": "", "estimated_age": "-1"},
    {"date_of_birth": "", "estimated_age": "٣"},
    {"date_of_birth": "1895-03-03"},
    {"date_of_birth": "1895-03-02"},
    {"date_of_birth": "1894-03-02"},
    {"date_of_birth": "2025-03-02"},
    {"date_of_birth": "2025-03-03"},
    {"date_of_birth": "01/02/1990"},
    {"date_of_birth": "20200101"},
    {"household_id": "h" * 129},
    {"biometric_reference": "b" * 128},
    {"relationship": "Child"},
    {"relationship": "cousin"},
    {"specific_needs": "SM-MN;;ds"},
    {"specific_needs": "SM-MN;hungry"},
    {"specific_needs": "wounded;Disability"},  # the first version's codes, translated
    {"specific_needs": "SM-XX"},
    {"specific_needs": " ; "},
    {"occurred_at": "2025-03-02T12:05:00+00:00"},
    {"occurred_at": "2025-03-02T12:05:01+00:00"},
    {"occurred_at": "2025-03-01T08:00:00"},
    {"occurred_at": "2025-03-01T08:00:00Z"},
    {"occurred_at": "yesterday"},
    {"person_id": str(uuid4())},
    {"person_id": "not-a-uuid"},
]


@pytest.mark.parametrize("overrides", TRICKY)
def test_the_quick_path_accepts_only_what_the_full_check_accepts(overrides: dict[str, str]) -> None:
    checker = _RowChecker(_column_indices(list(COLUMNS)), len(COLUMNS), NOW)
    values = {**row("R-1"), "estimated_age": "", "occurred_at": "", "person_id": "", **overrides}
    cells = [values.get(c, "").strip() for c in COLUMNS]
    problems, fields = checker.explain(2, cells)
    quick = checker.quick(cells)
    assert quick is None or (not problems and quick == fields)
    if not problems:
        assert quick == fields


def test_the_template_is_a_file_the_import_takes_whole() -> None:
    checked = read_arrivals(arrival_template().encode(), now=NOW)
    assert checked.problems == []
    assert [line for line, _ in checked.good] == [2]


def test_a_checked_row_holds_the_fields_of_an_arrival_in_their_order() -> None:
    assert ArrivalFields._fields == tuple(f.name for f in dataclasses.fields(Arrival))
    # How precise a date of birth is, is read from the date itself, not from a column.
    assert tuple(n for n in ArrivalFields._fields if n != "date_of_birth_precision") == COLUMNS


# --- the command line on a real database ----------------------------------------------------


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    params = conninfo_to_dict(database_url)
    host = str(params.get("host", ""))
    user = params.get("user", "postgres")
    if host.startswith("/"):  # the embedded server's socket directory
        as_url = f"postgresql://{user}@/{params['dbname']}?host={host}"
    else:
        as_url = f"postgresql://{user}@{host}:{params.get('port', 5432)}/{params['dbname']}"
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url)
    return database_url


@pytest.fixture
def registry(url: str, library_env: dict[str, str]) -> Iterator[Registry]:
    app = Registry(env=library_env)
    app.open_site(code=SITE, name="Import reception", kind="reception", capacity=10_000, actor="x")
    try:
        yield app
    finally:
        app.close()


def registered(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT count(*) FROM registry_events_claims WHERE scope = 'registration_number'"
        ).fetchone()
    return int(found[0]) if found else 0


def head(registry: Registry) -> int:
    return int(registry.recorder.max_notification_id() or 0)


def run(path: Path, *args: str) -> Any:
    return runner.invoke(cli, ["import", "arrivals", str(path), "--site", SITE, *args])


def write(tmp_path: Path, rows: list[dict[str, str]], name: str = "arrivals.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_file(rows))
    return path


def test_cli_reports_bad_rows_by_line_and_imports_nothing(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    before = head(registry)
    result = run(write(tmp_path, with_bad_rows()))
    assert result.exit_code == 1, result.output
    assert "line 4: nationality:" in result.stdout
    assert "line 7: date_of_birth: date_of_birth is in the future" in result.stdout
    assert "line 9: sex:" in result.stdout
    assert "nothing was imported" in result.stderr  # the verdict, apart from the report
    assert SECRET_NAME not in result.output and SECRET_BIRTH not in result.output
    assert head(registry) == before
    assert registered(url) == 0


def test_cli_dry_run_checks_and_plans_but_writes_nothing(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    before = head(registry)
    result = run(write(tmp_path, good_rows(25)), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] and report["to_import"] == 25 and report["imported"] == 0
    assert [b["status"] for b in report["batches"]] == ["planned"]
    assert head(registry) == before
    assert registered(url) == 0


def test_cli_skip_bad_rows_imports_the_good_ones(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    result = run(write(tmp_path, with_bad_rows()), "--skip-bad-rows", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["imported"] == 7 and report["bad_rows"] == 3
    assert {p["line"] for p in report["problems"]} == {4, 7, 9}
    assert registered(url) == 7


def test_cli_running_the_same_file_again_registers_nobody_twice(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    path = write(tmp_path, good_rows(30))
    first = run(path, "--batch-size", "7", "--workers", "1", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["imported"] == 30
    position = head(registry)
    again = run(path, "--batch-size", "7", "--workers", "1", "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["imported"], report["already_imported"], report["batches"]) == (0, 30, [])
    assert head(registry) == position
    assert registered(url) == 30


def test_cli_reads_the_file_from_stdin_given_a_dash(url: str, registry: Registry) -> None:
    piped = runner.invoke(
        cli, ["import", "arrivals", "-", "--site", SITE, "--json"], input=csv_file(good_rows(12))
    )
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)["imported"] == 12 and registered(url) == 12
    position = head(registry)
    unusable = runner.invoke(
        cli, ["import", "arrivals", "-", "--site", SITE], input=b"given_name,sex\nAmina,female\n"
    )
    assert unusable.exit_code == ExitCode.DATA_ERROR and unusable.stdout == ""
    assert "cannot import stdin:" in unusable.stderr and "Amina" not in unusable.stderr
    assert head(registry) == position


def test_cli_checks_and_imports_in_parallel_worker_processes(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    rows = good_rows(121)
    rows[50]["nationality"] = "Sudan"
    path = write(tmp_path, rows)
    refused = run(path, "--batch-size", "10", "--workers", "2", "--json")
    assert refused.exit_code == 1, refused.output
    assert [(p["line"], p["column"]) for p in json.loads(refused.stdout)["problems"]] == [
        (52, "nationality")
    ]
    assert registered(url) == 0
    result = run(path, "--batch-size", "10", "--workers", "2", "--skip-bad-rows", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["imported"] == 120
    assert [b["index"] for b in report["batches"]] == list(range(12))
    assert registered(url) == 120


def test_rows_checked_in_chunks_elsewhere_keep_their_lines_and_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    rows = with_bad_rows()
    whole = read_arrivals(csv_file(rows), now=NOW)
    with ThreadPoolExecutor(2) as pool:
        workers = import_workers.Workers(pool, 2)  # type: ignore[arg-type]
        for started in (False, True):
            if started:
                workers.started()
                wait(workers.warming)
            chunked = read_arrivals(csv_file(rows), now=NOW, map_chunks=workers.map_chunks)
            assert chunked.good == whole.good and chunked.problems == whole.problems
    assert [g[0] for g in whole.good] == [2, 3, 5, 6, 8, 10, 11]


def test_cli_stopped_by_the_database_says_so_and_the_next_run_finishes(
    url: str, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, good_rows(30))
    real = import_runner._register
    calls = 0

    def fail_on_third(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(import_runner, "_register", fail_on_third)
    stopped = run(path, "--batch-size", "10", "--workers", "1")
    assert stopped.exit_code == ExitCode.TEMPORARY_FAILURE, stopped.output
    assert "run the same command again" in " ".join(stopped.output.split())
    assert registered(url) == 20
    monkeypatch.setattr(import_runner, "_register", real)
    resumed = run(path, "--batch-size", "10", "--workers", "1", "--json")
    assert resumed.exit_code == 0, resumed.output
    report = json.loads(resumed.stdout)
    assert (report["already_imported"], report["imported"]) == (20, 10)
    assert registered(url) == 30


def test_cli_refuses_an_unknown_site_and_an_unreadable_file(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    path = write(tmp_path, good_rows(2))
    unknown = runner.invoke(cli, ["import", "arrivals", str(path), "--site", "NOPE"])
    assert unknown.exit_code == ExitCode.NOT_FOUND
    assert "no site with code NOPE" in unknown.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"given_name,sex\nAmina,female\n")
    unreadable = run(bad)
    assert unreadable.exit_code == ExitCode.DATA_ERROR
    assert "registration_number" in unreadable.output


# --- the import itself: resumption and values held by others -----------------------------


def test_an_interrupted_import_resumes_without_registering_anyone_twice(
    url: str, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = csv_file(good_rows(50))
    real = import_runner._register
    calls = 0

    def crash_after_two(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise ConnectionError("the line to the server dropped")
        return real(*args, **kwargs)

    monkeypatch.setattr(import_runner, "_register", crash_after_two)
    with pytest.raises(ConnectionError):
        import_arrivals(registry, content, site_code=SITE, actor="officer", batch_size=10)
    assert registered(url) == 20
    monkeypatch.setattr(import_runner, "_register", real)
    report = import_arrivals(registry, content, site_code=SITE, actor="officer", batch_size=10)
    assert (report.already_imported, report.imported, report.ok) == (20, 30, True)
    assert registered(url) == 50


def test_a_value_another_person_holds_makes_its_row_bad_before_anything_is_written(
    url: str, registry: Registry
) -> None:
    first = import_arrivals(
        registry, csv_file(good_rows(3, "OLD")), site_code=SITE, actor="officer-a"
    )
    assert first.imported == 3
    rows = good_rows(4, "NEW")
    rows[1]["registration_number"] = "OLD-00002"
    rows[3]["biometric_reference"] = "BIO-OLD-0"
    before = head(registry)
    report = import_arrivals(registry, csv_file(rows), site_code=SITE, actor="officer-b")
    assert {(p.line, p.column) for p in report.problems} == {
        (3, "registration_number"),
        (5, "biometric_reference"),
    }
    assert not report.ok and not report.batches and head(registry) == before
    skipped = import_arrivals(
        registry, csv_file(rows), site_code=SITE, actor="officer-b", skip_bad_rows=True
    )
    assert skipped.imported == 2 and skipped.ok
    assert registered(url) == 5


def test_a_batch_the_registry_refuses_names_its_rows(url: str, registry: Registry) -> None:
    rows = good_rows(4)
    person = str(uuid4())
    rows[2]["person_id"] = person
    import_arrivals(
        registry, csv_file([row("X-1", person_id=person)]), site_code=SITE, actor="device"
    )
    report = import_arrivals(registry, csv_file(rows), site_code=SITE, actor="officer")
    [batch] = report.batches
    assert batch.status == "refused" and not report.ok
    assert [(p.line, p.column, p.code) for p in batch.problems] == [
        (4, "person_id", "person-already-registered")
    ]


# --- over HTTP ----------------------------------------------------------------------------------


def post(api: Api, site: str, content: bytes, role: str = "registrar", **params: Any) -> Any:
    return api.client.post(
        f"/api/v1/sites/{site}/imports",
        content=content,
        params=params,
        headers={**api.auth(role), "Content-Type": "text/csv"},
    )


def test_api_imports_a_file_and_a_second_post_registers_nobody_twice(api: Api) -> None:
    site = api.open_site()
    content = csv_file(good_rows(12, site))
    response = post(api, site, content)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["imported"], body["ok"]) == (12, True)
    assert int(response.headers["X-Log-Position"]) == body["position"]
    api.wait(body["position"])
    roster = api.client.get(
        f"/api/v1/sites/{site}/occupancy", headers=api.auth("site_manager")
    ).json()
    assert roster["total"] == 12
    again = post(api, site, content)
    assert again.status_code == 200, again.text
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 12)


def test_api_bad_rows_are_422_with_every_line_and_nothing_written(api: Api) -> None:
    site = api.open_site()
    before = api.writes()
    response = post(api, site, csv_file(with_bad_rows()))
    body = assert_problem(response, 422, "import-rejected")
    assert [(r["line"], r["column"]) for r in body["rows"]] == [
        (4, "nationality"),
        (7, "date_of_birth"),
        (9, "sex"),
    ]
    assert SECRET_NAME not in response.text and SECRET_BIRTH not in response.text
    assert api.writes() == before


def test_api_dry_run_writes_nothing_and_skip_bad_rows_imports_the_rest(api: Api) -> None:
    site = api.open_site()
    rows = [
        {**r, "registration_number": f"{site}-{r['registration_number']}"} for r in with_bad_rows()
    ]
    rows = [{**r, "biometric_reference": ""} for r in rows]
    before = api.writes()
    dry = post(api, site, csv_file(rows), dry_run="true", skip_bad_rows="true")
    assert dry.status_code == 200, dry.text
    assert (dry.json()["to_import"], dry.json()["imported"]) == (7, 0)
    assert api.writes() == before
    skipped = post(api, site, csv_file(rows), skip_bad_rows="true")
    assert skipped.status_code == 201, skipped.text
    assert skipped.json()["imported"] == 7


def test_api_import_needs_a_registrar_token_scoped_to_the_site(api: Api) -> None:
    site, other = api.open_site(), api.open_site()
    content = csv_file(good_rows(2, site))
    path = f"/api/v1/sites/{site}/imports"
    csv_type = {"Content-Type": "text/csv"}
    before = api.writes()
    assert_problem(api.client.post(path, content=content, headers=csv_type), 401, "unauthorised")
    assert_problem(post(api, site, content, role="screener"), 403, "forbidden")
    scoped = {**api.auth("registrar", [other]), **csv_type}
    assert_problem(api.client.post(path, content=content, headers=scoped), 403, "out-of-scope")
    as_json = {**api.auth("registrar"), "Content-Type": "application/json"}
    assert_problem(
        api.client.post(path, content=b"[]", headers=as_json), 415, "unsupported-media-type"
    )
    assert api.writes() == before
    mine = {**api.auth("registrar", [site]), **csv_type}
    assert api.client.post(path, content=content, headers=mine).status_code == 201


def test_api_unknown_site_and_unreadable_file(api: Api) -> None:
    assert_problem(post(api, "NO-SUCH-SITE", csv_file(good_rows(1))), 404, "site-not-found")
    site = api.open_site()
    assert_problem(post(api, site, b"given_name\nAmina\n"), 422, "unreadable-import")


def test_dates_near_the_clock_follow_the_registry_clock() -> None:
    tomorrow = (NOW + timedelta(days=1)).date()
    checked = read_arrivals(csv_file([row("R-1", date_of_birth=str(tomorrow))]), now=NOW)
    assert [p.code for p in checked.problems] == ["invalid-age"]
    checked = read_arrivals(csv_file([row("R-1", date_of_birth=str(NOW.date()))]), now=NOW)
    assert checked.good[0][1][5] == date(2025, 3, 2)
