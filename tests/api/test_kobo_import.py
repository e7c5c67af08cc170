"""Registration with KoboToolbox or ODK: the XLSForm in forms/ and its exports imported.

The form is converted to an XForm with pyxform, as KoboToolbox and ODK Central do when
it is uploaded; the export's columns are then derived from that XForm (group paths, the
server's own columns, a select-multiple's per-choice columns), so the test follows the
form rather than a copy of its column list.
"""

from __future__ import annotations

import csv
import io
import runpy
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import openpyxl
import pytest
from pyxform.xls2xform import convert
from typer.testing import CliRunner

from campledger.api.cli.main import app as cli
from campledger.api.cli.shared import ExitCode
from campledger.api.services.import_rows import COLUMNS
from tests.api.conftest import PREFIX, Api, assert_problem

runner = CliRunner()
FORMS = Path(__file__).resolve().parents[2] / "forms"
FORM = FORMS / "registration.xlsx"
XF = "{http://www.w3.org/2002/xforms}"
# What KoboToolbox adds to every CSV export, after the form's own columns.
KOBO_COLUMNS = (
    "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
    "_submitted_by", "__version__", "_tags", "_index",
)  # fmt: skip


def xform() -> ET.Element:
    result = convert(xlsform=str(FORM))
    assert result.warnings == []
    return ET.fromstring(result.xform)


def form_paths() -> list[str]:
    """Every answer of the form as the export names it: its path under the form's root."""
    root = xform().find(f".//{XF}instance/{XF}data")
    assert root is not None

    def leaves(node: ET.Element, prefix: str) -> Iterator[str]:
        for child in node:
            name = prefix + child.tag.removeprefix(XF)
            if len(child):
                yield from leaves(child, name + "/")
            else:
                yield name

    return list(leaves(root, ""))


def kobo_export(answers: list[dict[str, str]], *, delimiter: str = ",") -> bytes:
    """A Kobo CSV export ("XML values and headers", one column per choice on) of these
    submissions: each dict names the form's answers by their last path segment."""
    paths = form_paths()
    need_choices = ("WR", "SM", "SM-MN")
    columns = [
        *paths,
        *(f"household/specific_needs/{c}" for c in need_choices),
        *KOBO_COLUMNS,
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for index, answer in enumerate(answers, start=1):
        source = answer.get("_uuid", str(uuid4()))
        chosen = answer.get("specific_needs", "").split()
        meta = {
            "start": "2026-03-01T08:00:00.000+03:00",
            "end": "2026-03-01T08:05:00.000+03:00",
            "meta/instanceID": f"uuid:{source}",
            "meta/instanceName": "ignored",
            "_id": str(1000 + index),
            "_uuid": source,
            "_submission_time": "2026-03-01T05:06:00",
            "_validation_status": "",
            "_notes": "",
            "_status": "submitted_via_web",
            "_submitted_by": "enumerator1",
            "__version__": "vQ8ZXnRq",
            "_tags": "",
            "_index": str(index),
        }
        row = []
        for column in columns:
            if column in meta:
                row.append(meta[column])
            elif column.startswith("household/specific_needs/"):
                row.append("1" if column.rsplit("/", 1)[1] in chosen else "0")
            else:
                row.append(answer.get(column.rsplit("/", 1)[-1], ""))
        writer.writerow(row)
    return buffer.getvalue().encode()


def submission(number: str, **answers: str) -> dict[str, str]:
    return {
        "_uuid": str(uuid4()),
        "registration_number": number,
        "given_name": "فاطمة",
        "family_name": "آدم",
        "given_name_latin": "Fatima",
        "sex": "female",
        "nationality": "SDN",
        "estimated_age": "34",
        "household_id": f"H-{number}",
        "relationship": "focal_point",
        "specific_needs": "WR SM-MN",
        **answers,
    }


def post(api: Api, site: str, content: bytes, **params: str) -> Any:
    return api.client.post(
        f"{PREFIX}/sites/{site}/imports",
        content=content,
        params=params,
        headers={**api.auth("registrar"), "Content-Type": "text/csv"},
    )


def test_the_registration_form_converts_to_an_xform_with_campledgers_fields() -> None:
    root = xform()
    answers = [p for p in form_paths() if not p.startswith("meta/") and p not in ("start", "end")]
    leaves = [p.rsplit("/", 1)[-1] for p in answers]
    assert set(leaves) <= set(COLUMNS)
    assert {"registration_number", "given_name", "sex", "nationality"} <= set(leaves)
    binds = {b.get("nodeset", "").rsplit("/", 1)[-1]: b for b in root.iter(f"{XF}bind")}
    assert binds["date_of_birth"].get("type") == "date"
    assert binds["estimated_age"].get("type") == "int"
    assert binds["registration_number"].get("required") == "true()"
    selects = {e.get("ref", "").rsplit("/", 1)[-1] for e in root.iter(f"{XF}select")}
    assert selects == {"specific_needs"}  # a select-multiple: its answer space-separated


def test_the_committed_form_is_what_its_script_builds(tmp_path: Path) -> None:
    built = tmp_path / "registration.xlsx"
    runpy.run_path(str(FORMS / "registration_form.py"))["build"](built)

    def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
        book = openpyxl.load_workbook(path)
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}

    assert cells(FORM) == cells(built)


def test_a_kobo_export_of_the_form_imports_and_a_later_export_adds_only_the_new(
    api: Api,
) -> None:
    site = api.open_site()
    first = [submission(api.fresh_code("K")), submission(api.fresh_code("K"), specific_needs="")]

    done = post(api, site, kobo_export(first))  # told apart by its header

    assert done.status_code == 201, done.text
    assert done.json()["imported"] == 2
    api.wait()
    roster = api.client.get(f"{PREFIX}/sites/{site}/roster", headers=api.auth("admin"))
    people = {r["person_id"]: r for r in roster.json()["items"]}
    # The submission's _uuid is the person's id: the source of the record, and its key.
    assert set(people) == {s["_uuid"] for s in first}
    person = people[first[0]["_uuid"]]
    assert (person["given_name"], person["given_name_latin"]) == ("فاطمة", "Fatima")
    assert person["specific_needs"] == ["SM-MN", "WR"]
    assert person["household_id"] == first[0]["household_id"]

    # Kobo exports are cumulative: the next one holds the first submissions again.
    later = [*first, submission(api.fresh_code("K"))]
    again = post(api, site, kobo_export(later), **{"from": "kobo"})
    assert again.status_code == 201, again.text
    assert (again.json()["already_imported"], again.json()["imported"]) == (2, 1)
    assert UUID(later[2]["_uuid"])


@pytest.mark.parametrize(
    ("answers", "column", "code", "says"),
    [
        ({"specific_needs": "WR;SM"}, "specific_needs", "invalid-specific-need", "spaces"),
        ({"specific_needs": "WR XX"}, "specific_needs", "invalid-specific-need", "spaces"),
        ({"sex": "f"}, "sex", "invalid-sex", "sex must be one of"),
        ({"_uuid": "not-a-uuid"}, "person_id", "invalid-person-id", "UUID"),
    ],
)
def test_a_bad_answer_is_named_by_line_and_column_and_nothing_is_written(
    api: Api, answers: dict[str, str], column: str, code: str, says: str
) -> None:
    site = api.open_site()
    good, bad = submission(api.fresh_code("K")), submission(api.fresh_code("K"), **answers)
    before = api.head()

    response = post(api, site, kobo_export([good, bad]), **{"from": "kobo"})

    body = assert_problem(response, 422, "import-rejected")
    [problem] = body["rows"]
    assert (problem["line"], problem["column"], problem["code"]) == (3, column, code)
    assert says in problem["reason"]
    assert api.head() == before


def test_a_column_the_form_does_not_have_is_refused_by_name(api: Api) -> None:
    site = api.open_site()
    content = kobo_export([submission(api.fresh_code("K"))])
    header, rest = content.split(b"\n", 1)
    before = api.head()

    response = post(api, site, header + b",household/phone_number\n" + rest.rstrip() + b",0\n")

    body = assert_problem(response, 422, "unreadable-import")
    assert "'household/phone_number' is not an arrival field" in body["detail"]
    assert api.head() == before


def test_an_odk_central_export_with_dashes_between_groups_imports(api: Api) -> None:
    site = api.open_site()
    person = submission(api.fresh_code("K"))
    kobo = list(csv.reader(io.StringIO(kobo_export([person]).decode())))
    # ODK Central: groups joined by "-", its own columns, no Kobo ones.
    central = {"SubmissionDate": "2026-03-01T05:06:00.000Z", "KEY": "uuid:x", "Status": ""}
    kept = [i for i, c in enumerate(kobo[0]) if not c.startswith("_") and "/WR" not in c]
    header = [kobo[0][i].replace("/", "-") for i in kept if "specific_needs/" not in kobo[0][i]]
    values = [kobo[1][i] for i in kept if "specific_needs/" not in kobo[0][i]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[*central, *header], [*central.values(), *values]])

    done = post(api, site, buffer.getvalue().encode())

    assert done.status_code == 201, done.text
    api.wait()
    read = api.client.get(f"{PREFIX}/persons/{person['_uuid']}", headers=api.auth("admin"))
    assert read.status_code == 200, read.text


@pytest.fixture
def cli_database(
    api: Api, api_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", api_database_url)
    yield


@pytest.mark.usefixtures("cli_database")
def test_the_import_command_takes_a_semicolon_kobo_export_with_from_kobo(
    api: Api, tmp_path: Path
) -> None:
    site = api.open_site()
    export = tmp_path / "kobo.csv"
    export.write_bytes(kobo_export([submission(api.fresh_code("K"))], delimiter=";"))

    as_ours = runner.invoke(
        cli, ["import", "arrivals", str(export), "--site", site, "--from", "campledger"]
    )
    assert as_ours.exit_code == ExitCode.DATA_ERROR, as_ours.output

    done = runner.invoke(
        cli, ["import", "arrivals", str(export), "--site", site, "--from", "kobo", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert '"imported": 1' in done.stdout
