"""One convention for formats and one for lists, stated in the OpenAPI document.

A format other than JSON is chosen by the path's suffix (``roster.csv``, ``log.csv``,
``occupancy.hxl.csv``); the roster's former ``?format=csv`` still answers, deprecated.
Every list takes its cursor as ``cursor`` (``after`` survives on the rosters and the
duplicates, deprecated) and answers ``{items, next_cursor}``; the audit log's first
``after_position``/``entries``/``next_after`` are gone.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PREFIX, Api
from tests.api.test_paging import resolve


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = api.client.get("/openapi.json").json()
    return found


def gets(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, ops["get"]) for path, ops in document["paths"].items() if "get" in ops]


def test_a_format_is_chosen_by_the_paths_suffix(document: dict[str, Any]) -> None:
    for path, operation in gets(document):
        content = operation["responses"]["200"].get("content", {})
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        if "text/csv" in content and not path.endswith(".csv"):
            # Only the roster's former way, deprecated.
            assert path.endswith("/roster"), path
            assert parameters["format"]["deprecated"] is True
        assert "format" not in parameters or parameters["format"].get("deprecated"), path
    roster_csv = document["paths"][PREFIX + "/sites/{code}/roster.csv"]["get"]
    assert roster_csv["operationId"] == "exportSiteRosterCsv"
    assert "text/csv" in roster_csv["responses"]["200"]["content"]


def test_the_roster_csv_is_the_former_format_csv(api: Api) -> None:
    code = api.open_site()
    api.register(code, 3)
    api.wait()
    admin = api.auth("admin")
    path = f"{PREFIX}/sites/{code}/roster"
    by_suffix = api.client.get(path + ".csv", params={"limit": 2}, headers=admin)
    by_format = api.client.get(path, params={"format": "csv", "limit": 2}, headers=admin)
    assert by_suffix.status_code == by_format.status_code == 200
    assert by_suffix.headers["content-type"].startswith("text/csv")
    assert by_suffix.text == by_format.text
    assert len(by_suffix.text.strip().splitlines()) == 3  # the header and two persons
    assert by_suffix.headers["X-Next-Cursor"] == by_format.headers["X-Next-Cursor"]
    following = api.client.get(
        path + ".csv",
        params={"limit": 2, "cursor": by_suffix.headers["X-Next-Cursor"]},
        headers=admin,
    )
    assert len(following.text.strip().splitlines()) == 2
    assert "X-Next-Cursor" not in following.headers


def test_the_roster_csv_refuses_what_the_roster_refuses(api: Api) -> None:
    code = api.open_site()
    refused = api.client.get(
        f"{PREFIX}/sites/{code}/roster.csv", params={"cursor": "a+b"}, headers=api.auth("admin")
    )
    assert refused.status_code == 422
    unknown = api.client.get(f"{PREFIX}/sites/NO-SUCH/roster.csv", headers=api.auth("admin"))
    assert unknown.status_code == 404


def test_every_list_takes_cursor_and_answers_one_envelope(document: dict[str, Any]) -> None:
    lists = 0
    for path, operation in gets(document):
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        assert not {"after_position", "next_after"} & set(parameters), path
        content = operation["responses"]["200"].get("content", {}).get("application/json")
        schema = resolve(document, content["schema"]) if content else {}
        properties = set(schema.get("properties", {}))
        assert not {"entries", "next_after"} & properties, path
        if "next_cursor" in properties:
            lists += 1
            assert properties == {"items", "next_cursor"}, path
            assert "cursor" in parameters, path
            if "after" in parameters:
                assert parameters["after"]["deprecated"] is True, path
    assert lists >= 12
