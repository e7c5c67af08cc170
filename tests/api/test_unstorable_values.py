"""Every way in refuses the same unstorable values with the same problem, and writes nothing.

A value the read models cannot hold (a NUL character, a lone surrogate, a whole number
beyond 64 bits, a list nested hundreds deep) once came in through the CSV import and
stopped every read model for good. The rule now lives in the domain
(``domain.values.unstorable``); the JSON schemas, the CSV checker and sync all answer it
as ``unstorable-value``: JSON by field, the CSV import by line, sync by item.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

from campledger.api.services.import_rows import COLUMNS
from campledger.domain.model.values import NUL_CHARACTER, SURROGATE, TOO_DEEP
from tests.api.conftest import PREFIX, Api, api, api_database_url, arrival_json, assert_problem

__all__ = ["api", "api_database_url"]  # fixtures

UNSTORABLE = "unstorable-value"
SECRET = "Zaynab-Nul7"


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_json(depth: int) -> str:
    # json.dumps would recurse as deep as the value: write it out instead.
    return "[" * depth + "]" * depth


# --- CSV import --------------------------------------------------------------------------------


def good_row(number: str) -> dict[str, str]:
    return {
        "registration_number": number,
        "given_name": "Amina",
        "family_name": "Haroun",
        "sex": "female",
        "nationality": "SDN",
        "date_of_birth": "1990-04-01",
        "estimated_age": "",
        "household_id": f"H-{number}",
        "relationship": "focal_point",
        "biometric_reference": f"BIO-{number}",
        "specific_needs": "SM-OT",
        "given_name_latin": "Amina",
        "family_name_latin": "Haroun",
        "occurred_at": "2025-03-01T08:30:00+00:00",
        "person_id": str(uuid4()),
    }


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def poisoned_file(site: str) -> tuple[bytes, dict[int, str]]:
    """A good row, then one row per column with a NUL in that column (a secret name beside
    it), then a good row: the line of each poisoned row and its column."""
    rows = [good_row(f"{site}-ok-1")]
    poisoned: dict[int, str] = {}
    for column in COLUMNS:
        row = good_row(f"{site}-{len(rows)}")
        row[column] = row[column][:2] + "\x00" + row[column][2:]
        if column == "given_name":
            row[column] = SECRET + "\x00"
        poisoned[len(rows) + 2] = column  # line 1 is the header
        rows.append(row)
    rows.append(good_row(f"{site}-ok-2"))
    return csv_bytes(rows), poisoned


def post_csv(api: Api, site: str, content: bytes, **params: Any) -> httpx.Response:
    return api.client.post(
        f"{PREFIX}/sites/{site}/imports",
        content=content,
        params=params,
        headers={**api.auth("registrar"), "Content-Type": "text/csv"},
    )


def test_a_csv_with_a_nul_in_every_column_names_each_line_and_writes_nothing(api: Api) -> None:
    site = api.open_site()
    content, poisoned = poisoned_file(site)
    before = api.writes()

    response = post_csv(api, site, content)

    body = assert_problem(response, 422, "import-rejected")
    found = {(r["line"], r["column"]): r for r in body["rows"]}
    assert set(found) == set(poisoned.items()), "each poisoned cell, and only it, is reported"
    for (_, column), problem in found.items():
        assert problem["code"] == UNSTORABLE
        assert problem["reason"] == f"{column} {NUL_CHARACTER}"
    assert SECRET not in response.text and "\\u0000" not in response.text
    assert api.writes() == before


def test_skipping_the_bad_rows_imports_the_rest_and_the_read_models_keep_up(api: Api) -> None:
    site = api.open_site()
    content, poisoned = poisoned_file(site)

    response = post_csv(api, site, content, skip_bad_rows="true")

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["imported"], body["bad_rows"]) == (2, len(poisoned))
    api.wait(body["position"])  # the projector applied the import: nothing stopped it
    occupancy = api.client.get(
        f"{PREFIX}/sites/{site}/occupancy", headers=api.auth("site_manager")
    ).json()
    assert occupancy["total"] == 2


def test_a_csv_with_a_huge_age_or_an_encoded_surrogate_is_refused_and_writes_nothing(
    api: Api,
) -> None:
    site = api.open_site()
    before = api.writes()
    rows = [good_row(f"{site}-1"), good_row(f"{site}-2"), good_row(f"{site}-3")]
    for row, digits in zip(rows[1:], (30, 5_000), strict=True):
        row.update(date_of_birth="", estimated_age="9" * digits)
    body = assert_problem(post_csv(api, site, csv_bytes(rows)), 422, "import-rejected")
    assert [(r["line"], r["column"], r["code"]) for r in body["rows"]] == [
        (3, "estimated_age", "invalid-age"),
        (4, "estimated_age", "invalid-age"),
    ]
    # UTF-8 cannot encode a surrogate: its would-be bytes make the file unreadable.
    surrogate = csv_bytes([good_row(f"{site}-4")]).replace(b"Amina", b"Am\xed\xa0\x80ina")
    assert_problem(post_csv(api, site, surrogate), 422, "unreadable-import")
    assert api.writes() == before


def test_a_csv_registration_number_is_folded_or_refused_like_any_other(api: Api) -> None:
    site = api.open_site()
    wide, mixed = good_row("ＷＩＤＥ-１"), good_row("MIX-\u0410-1")
    wide["registration_number"] = f"{site}-ＷＩＤＥ-１"
    mixed["registration_number"] = f"{site}-MIX-\u0410-1"
    body = assert_problem(post_csv(api, site, csv_bytes([wide, mixed])), 422, "import-rejected")
    assert [(r["line"], r["code"]) for r in body["rows"]] == [(3, "invalid-registration-number")]
    done = post_csv(api, site, csv_bytes([wide]))
    assert done.status_code == 201, done.text
    taken = post_csv(
        api, site, csv_bytes([{**good_row("x"), "registration_number": f"{site}-WIDE-1"}])
    )
    [problem] = assert_problem(taken, 422, "import-rejected")["rows"]
    assert problem["code"] == "duplicate-registration-number"


# --- JSON -----------------------------------------------------------------------------------------


def post_json(api: Api, path: str, body: Any, **headers: str) -> httpx.Response:
    return api.client.post(
        PREFIX + path,
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={**api.auth("admin"), "Content-Type": "application/json", **headers},
    )


TEXT_FIELDS = ("registration_number", "given_name", "family_name", "household_id",
               "biometric_reference", "sex", "nationality", "relationship")  # fmt: skip


def test_json_arrivals_refuse_nul_and_surrogates_in_every_text_field_by_name(api: Api) -> None:
    site = api.open_site()
    before = api.writes()
    for field in TEXT_FIELDS:
        for bad, reason in (("Ha\x00wa", NUL_CHARACTER), ("Ha\ud800wa", SURROGATE)):
            arrival = {"site_code": site, **arrival_json(api.fresh_code("R"), **{field: bad})}
            response = post_json(api, "/arrivals", arrival)
            body = assert_problem(response, 422, UNSTORABLE)
            assert {"loc": ["body", field], "msg": reason, "type": "unstorable_value"} in body[
                "errors"
            ], body
            batch = {"site_code": site, "arrivals": [arrival_json(api.fresh_code("R")), arrival]}
            batch["arrivals"][1].pop("site_code")
            body = assert_problem(post_json(api, "/arrivals/batch", batch), 422, UNSTORABLE)
            assert ["body", "arrivals", 1, field] in [e["loc"] for e in body["errors"]]
    assert api.writes() == before


def test_a_correction_nested_900_deep_is_a_422_not_a_500_and_writes_nothing(api: Api) -> None:
    site = api.open_site()
    person = api.person(site)
    before = api.writes()
    for value, reason in (
        (nested_json(900), TOO_DEEP),
        (nested_json(33), TOO_DEEP),
        ("[" + "1" + "0" * 29 + "]", "must not hold whole numbers beyond 64 bits"),
        ('["SM-OT", "\\u0000"]', NUL_CHARACTER),
    ):
        raw = f'{{"field": "specific_needs", "value": {value}, "reason": "typo"}}'.encode()
        response = post_json(
            api, f"/persons/{person}/corrections", raw, **{"Idempotency-Key": "k-deep"}
        )
        body = assert_problem(response, 422, UNSTORABLE)
        assert body["errors"] == [
            {"loc": ["body", "value"], "msg": reason, "type": "unstorable_value"}
        ]
    assert api.writes() == before
    fine = post_json(
        api,
        f"/persons/{person}/corrections",
        {"field": "specific_needs", "value": ["SM-OT"], "reason": "typo"},
    )
    assert fine.status_code == 200, fine.text


def test_json_registration_numbers_are_folded_or_refused(api: Api) -> None:
    site = api.open_site()
    number = api.fresh_code("ＲＷ")
    response = post_json(api, "/arrivals", {"site_code": site, **arrival_json(number)})
    assert response.status_code == 201, response.text
    person = UUID(response.json()["person_id"])
    assert api.registry.get_person(person).registration_number == number.replace("ＲＷ", "RW")
    before = api.writes()
    mixed = {"site_code": site, **arrival_json("ADR-\u0410-" + api.fresh_code())}
    assert_problem(post_json(api, "/arrivals", mixed), 422, "invalid-registration-number")
    assert api.writes() == before


# --- sync -----------------------------------------------------------------------------------------


def item(api: Api, kind: str, body: dict[str, Any], **target: Any) -> dict[str, Any]:
    return {
        "idempotency_key": f"k-{api.unique()}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "device_id": "tablet-9",
        "type": kind,
        "body": body,
        **{k: str(v) for k, v in target.items()},
    }


def sync(api: Api, items: list[dict[str, Any]], atomic: bool = False) -> httpx.Response:
    raw = json.dumps({"atomic": atomic, "items": items}).replace('"@@deep@@"', nested_json(900))
    return post_json(api, "/sync", raw.encode())


def test_sync_rejects_each_unstorable_item_alone_with_the_same_problem(api: Api) -> None:
    site = api.open_site()
    person = api.person(site)
    good = item(
        api,
        "hold_person",
        {"reason": "interview", "authority": "Governor", "order_reference": "ORD-1"},
        person_id=person,
    )
    arrivals = {"site_code": site, **arrival_json("R-1", given_name=SECRET + "\x00")}
    surrogate = {"site_code": site, **arrival_json("R-2", family_name="\ud800")}
    deep = {"field": "specific_needs", "value": "@@deep@@", "reason": "x"}
    huge = {"field": "estimated_age", "value": 10**30, "reason": "x"}
    items = [
        item(api, "register_arrival", arrivals),
        item(api, "register_arrival", surrogate),
        item(api, "correct_detail", deep, person_id=person),
        item(api, "correct_detail", huge, person_id=person),
        item(
            api,
            "hold_person",
            {"reason": "inter\x00view", "authority": "Governor", "order_reference": "ORD-1"},
            person_id=person,
        ),
        good,
    ]
    for atomic in (True, False):
        before = api.writes()
        response = sync(api, items, atomic=atomic)
        assert response.status_code in (200, 422), response.text
        results = response.json()["results"]
        rejected = [r for r in results if r["status"] == "rejected"]
        assert all(r["problem"]["type"].endswith("/" + UNSTORABLE) for r in rejected), [
            r["problem"] for r in rejected
        ]
        assert SECRET not in response.text
        if atomic:
            assert [r["status"] for r in results] == ["rejected"] + ["not_applied"] * 5
            assert api.writes() == before
        else:
            assert [r["status"] for r in results] == ["rejected"] * 5 + ["applied"]
            assert api.head() == before[0] + 1  # the hold, and nothing else
            assert results[2]["problem"]["errors"][0]["msg"] == TOO_DEEP
