"""Dates of birth in imported files: ISO 8601 by default, DD/MM/YYYY when the file is said
to use it, and a year alone in either, recorded as a year."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from campledger.api.services.import_checked import to_arrival
from campledger.api.services.import_file import read_arrivals
from campledger.domain.model.person import Person
from campledger.domain.service.registry import Registry
from tests.api.conftest import Api, api, api_database_url, assert_problem
from tests.field.test_import import (
    NOW,
    SITE,
    csv_file,
    head,
    post,
    registered,
    registry,
    row,
    run,
    url,
    write,
)

__all__ = ["api", "api_database_url", "registry", "url"]  # fixtures


def _births(rows: list[dict[str, str]], date_format: str = "YYYY-MM-DD") -> list[object]:
    checked = read_arrivals(csv_file(rows), now=NOW, date_format=date_format)
    assert checked.problems == []
    return [
        (fields.date_of_birth, fields.date_of_birth_precision) for _, fields in sorted(checked.good)
    ]


def test_iso_dates_and_years_alone_by_default() -> None:
    rows = [row("D-1", date_of_birth="1990-04-03"), row("D-2", date_of_birth="1985")]
    assert _births(rows) == [(date(1990, 4, 3), "day"), (date(1985, 1, 1), "year")]


def test_day_first_dates_when_the_file_says_so() -> None:
    rows = [
        row("D-1", date_of_birth="03/04/1990"),
        row("D-2", date_of_birth="1985"),
        row("D-3", date_of_birth="", estimated_age="7"),
    ]
    assert _births(rows, "DD/MM/YYYY") == [
        (date(1990, 4, 3), "day"),
        (date(1985, 1, 1), "year"),
        (None, None),
    ]


def test_a_checked_row_with_a_year_alone_is_an_arrival_recorded_as_a_year() -> None:
    checked = read_arrivals(csv_file([row("D-1", date_of_birth="1985")]), now=NOW)
    arrival = to_arrival(checked.good[0][1])
    assert (arrival.date_of_birth, arrival.date_of_birth_precision) == (date(1985, 1, 1), "year")


@pytest.mark.parametrize(
    ("cell", "date_format", "says"),
    [
        ("03/04/1990", "YYYY-MM-DD", "must be a date as YYYY-MM-DD, or a year as YYYY"),
        ("1990-04-03", "DD/MM/YYYY", "must be a date as DD/MM/YYYY, or a year as YYYY"),
        ("31/02/1990", "DD/MM/YYYY", "must be a date as DD/MM/YYYY"),
        ("2999", "YYYY-MM-DD", "date_of_birth is in the future"),
        ("1850", "DD/MM/YYYY", "date_of_birth gives an age above 130"),
    ],
)
def test_a_bad_date_is_named_by_line_and_column_without_its_value(
    cell: str, date_format: str, says: str
) -> None:
    rows = [row("D-1"), row("D-2", date_of_birth=cell)]
    rows[0]["date_of_birth"] = "1985"
    checked = read_arrivals(csv_file(rows), now=NOW, date_format=date_format)
    [problem] = checked.problems
    assert (problem.line, problem.column) == (3, "date_of_birth")
    assert says in problem.reason and cell not in problem.reason


def test_the_same_file_read_with_another_date_format_is_another_import() -> None:
    content = csv_file([row("D-1", date_of_birth="1985")])
    iso = read_arrivals(content, now=NOW).digest
    assert read_arrivals(content, now=NOW, date_format="DD/MM/YYYY").digest != iso


def test_cli_imports_day_first_dates_and_years(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    before = head(registry)
    path = write(
        tmp_path,
        [row("DF-1", date_of_birth="03/04/1990"), row("DF-2", date_of_birth="1985")],
    )
    result = run(path, "--date-format", "DD/MM/YYYY")
    assert result.exit_code == 0, result.output
    events = [
        e for e in registry.notification_log.select(before + 1, 10) if "Registered" in e.topic
    ]
    read = [registry.mapper.to_domain_event(e) for e in events]
    assert all(isinstance(e, Person.Registered) for e in read)
    assert sorted((e.date_of_birth, e.date_of_birth_precision) for e in read) == [
        (date(1985, 1, 1), "year"),
        (date(1990, 4, 3), "day"),
    ]


def test_cli_refuses_a_bad_date_by_line_and_column_and_writes_nothing(
    url: str, registry: Registry, tmp_path: Path
) -> None:
    before = head(registry)
    path = write(tmp_path, [row("DB-1"), row("DB-2", date_of_birth="1990-04-03")])
    result = run(path, "--date-format", "DD/MM/YYYY")
    assert result.exit_code == 1, result.output
    assert "line 3: date_of_birth: date_of_birth must be a date as DD/MM/YYYY" in result.stdout
    assert head(registry) == before and registered(url) == 0
    # The site stays as it was: a refused file opened nothing.
    assert SITE


def test_api_takes_the_date_format_as_a_parameter_and_refuses_a_bad_date_writing_nothing(
    api: Api,
) -> None:
    site = api.open_site()
    rows = [
        row(f"{site}-1", date_of_birth="03/04/1990"),
        row(f"{site}-2", date_of_birth="1985"),
    ]
    before = api.writes()
    refused = post(api, site, csv_file(rows))  # ISO by default: 03/04/1990 is not guessed
    body = assert_problem(refused, 422, "import-rejected")
    assert [(r["line"], r["column"]) for r in body["rows"]] == [(2, "date_of_birth")]
    assert "03/04/1990" not in refused.text
    assert api.writes() == before

    response = post(api, site, csv_file(rows), date_format="DD/MM/YYYY")
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2
