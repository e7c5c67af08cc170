"""Every resource of /api/v1 through the ASGI app, the way a field app or partner uses it.

Commands answer with the log position of their last event; the reads that follow pass it
as ``wait_for`` to see their own writes.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem

FIELD_DAY = date(2025, 6, 1)


def at(hours: float, day: date = FIELD_DAY) -> datetime:
    return datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(hours=hours)


def post(api: Api, path: str, body: dict[str, Any], role: str = "admin", **kw: Any) -> Any:
    response = api.client.post(PREFIX + path, json=body, headers=api.auth(role), **kw)
    assert response.status_code in (200, 201), response.text
    return response.json()


def get(api: Api, path: str, role: str = "admin", **params: Any) -> httpx.Response:
    response = api.client.get(PREFIX + path, params=params, headers=api.auth(role))
    assert response.status_code == 200, response.text
    return response


def numbers(rows: list[dict[str, Any]]) -> list[str]:
    return [r["registration_number"] for r in rows]


# --- sites ---------------------------------------------------------------------------------


def test_a_site_is_opened_resized_listed_read_and_closed(api: Api) -> None:
    code = api.fresh_code("RC")
    opened = post(
        api,
        "/sites",
        {"code": code, "name": "Adré reception", "kind": "reception", "capacity": 50,
         "admin1_pcode": "TD07", "latitude": 13.47, "longitude": 22.2},
    )  # fmt: skip
    assert opened["site_code"] == code and opened["position"] == api.head()
    site = get(api, f"/sites/{code}", wait_for=opened["position"]).json()
    assert (site["kind"], site["capacity"], site["is_open"]) == ("reception", 50, True)

    resized = post(api, f"/sites/{code}/capacity", {"capacity": 80, "reason": "new tents"})
    assert get(api, f"/sites/{code}", wait_for=resized["position"]).json()["capacity"] == 80
    listed = get(api, "/sites", wait_for=resized["position"]).json()["items"]
    assert code in [s["code"] for s in listed]

    closed = post(api, f"/sites/{code}/close", {"reason": "flooded"})
    after = get(api, f"/sites/{code}", wait_for=closed["position"]).json()
    assert after["is_open"] is False and after["closed_at"] is not None
    refused = api.client.post(
        f"{PREFIX}/arrivals",
        json={"site_code": code, **arrival_json(api.fresh_code("R"))},
        headers=api.auth("registrar"),
    )
    assert_problem(refused, 409, "site-closed")


def test_occupancy_counts_who_is_at_each_site_against_capacity(api: Api) -> None:
    code = api.open_site(capacity=10)
    other = api.open_site(capacity=10)
    api.register(code, 2, sex="male", estimated_age=3)
    api.register(code, 1, estimated_age=70, specific_needs=("ER",))
    api.register(other, 1)
    position = api.head()

    one = get(api, f"/sites/{code}/occupancy", wait_for=position).json()
    assert one["total"] == 3 and one["occupancy_rate"] == 0.3
    assert one["by_sex_age"]["male"]["0-4"] == 2 and one["by_sex_age"]["female"]["60+"] == 1
    assert one["by_need"]["ER"] == 1

    every = {s["site_code"]: s["total"] for s in get(api, "/sites/occupancy").json()["items"]}
    assert every[code] == 3 and every[other] == 1


def test_flows_count_arrivals_transfers_and_departures_per_day(api: Api) -> None:
    origin, destination = api.open_site(), api.open_site(kind="camp")
    people = api.register(origin, 3, occurred_at=at(0))
    api.register(origin, 1, occurred_at=at(0, FIELD_DAY + timedelta(days=2)))
    transfer = api.registry.plan_transfer(
        origin=origin, destination=destination, manifest=people[:2], occurred_at=at(1),
        actor="setup",
    ).result["transfer_id"]  # fmt: skip
    api.registry.dispatch_transfer(transfer_id=UUID(transfer), occurred_at=at(2), actor="setup")
    api.registry.receive_transfer(
        transfer_id=UUID(transfer), site_code=destination, persons=people[:2],
        occurred_at=at(3), actor="setup",
    )  # fmt: skip
    api.registry.record_departure(
        person_id=people[2], reason="returned", occurred_at=at(4), actor="setup"
    )
    position = api.head()

    day = FIELD_DAY.isoformat()
    rows = get(api, f"/sites/{origin}/flows", start=day, end=day, wait_for=position).json()["items"]
    assert [(r["arrivals"], r["transfers_out"], r["departures"]) for r in rows] == [(3, 2, 1)]
    rows = get(api, "/sites/flows", start=day, end=(FIELD_DAY + timedelta(days=2)).isoformat())
    mine = {(r["site_code"], r["day"]): r for r in rows.json()["items"]}
    assert mine[(destination, day)]["transfers_in"] == 2
    assert mine[(origin, (FIELD_DAY + timedelta(days=2)).isoformat())]["arrivals"] == 1
    backwards = api.client.get(
        f"{PREFIX}/sites/flows",
        params={"start": day, "end": "2025-05-01"},
        headers=api.auth("admin"),
    )
    assert_problem(backwards, 400, "bad-query")


# --- rosters ---------------------------------------------------------------------------------


def _roster_site(api: Api) -> tuple[str, str, dict[str, str]]:
    """A site with a mix of people: its code, a household, each one's registration number."""
    code = api.open_site()
    household = api.fresh_code("HH")
    people = {
        "mother": arrival_json(api.fresh_code("R"), household_id=household,
                               relationship="focal_point"),
        "toddler": arrival_json(api.fresh_code("R"), sex="male", estimated_age=3,
                                household_id=household, relationship="child",
                                specific_needs=["DS"]),
        "elder": arrival_json(api.fresh_code("R"), estimated_age=65, nationality="SSD",
                              specific_needs=["ER"]),
        "held": arrival_json(api.fresh_code("R"), sex="male", estimated_age=20),
        "departed": arrival_json(api.fresh_code("R")),
    }  # fmt: skip
    batch = post(api, "/arrivals/batch", {"site_code": code, "arrivals": list(people.values())})
    ids = dict(zip(people, batch["person_ids"], strict=True))
    post(
        api,
        f"/persons/{ids['held']}/hold",
        {"reason": "interview", "authority": "Governor", "order_reference": "ORD-1"},
    )
    post(api, f"/persons/{ids['departed']}/departure", {"reason": "resettled"})
    api.wait()
    return code, household, {who: p["registration_number"] for who, p in people.items()}


def test_roster_filters_by_status_sex_age_nationality_need_and_household(api: Api) -> None:
    code, household, number = _roster_site(api)
    path = f"/sites/{code}/roster"

    def who(**params: Any) -> set[str]:
        items = get(api, path, role="site_manager", **params).json()["items"]
        return {next(k for k, v in number.items() if v == n) for n in numbers(items)}

    assert who() == {"mother", "toddler", "elder", "held"}  # present and held
    assert who(status="held") == {"held"}
    assert who(status="departed") == {"departed"}
    assert who(sex="male") == {"toddler", "held"}
    assert who(age_band="0-4") == {"toddler"}
    assert who(age_band="60+") == {"elder"}
    assert who(nationality="SSD") == {"elder"}
    assert who(specific_need="DS") == {"toddler"}
    assert who(household_id=household) == {"mother", "toddler"}
    assert who(sex="male", age_band="18-59") == {"held"}
    bad = api.client.get(PREFIX + path, params={"age_band": "6-7"}, headers=api.auth("admin"))
    assert_problem(bad, 400, "bad-query")


def test_roster_pages_by_keyset_cursor_in_json_and_csv(api: Api) -> None:
    code = api.open_site()
    api.register(code, 5)
    api.wait()
    path = f"/sites/{code}/roster"

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": cursor} if cursor else {})}
        page = get(api, path, **params).json()
        seen += numbers(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 5 and seen == sorted(seen)

    first = get(api, path, limit=3, format="csv")
    assert first.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(first.text)))
    assert [r["registration_number"] for r in rows] == seen[:3]
    assert rows[0]["given_name"] == "Amina"  # admins see names
    rest = get(api, path, limit=3, format="csv", after=first.headers["X-Next-Cursor"])
    assert "X-Next-Cursor" not in rest.headers
    assert [r["registration_number"] for r in csv.DictReader(io.StringIO(rest.text))] == seen[3:]
    bad = api.client.get(PREFIX + path, params={"after": "not-a-cursor"}, headers=api.auth("admin"))
    assert_problem(bad, 400, "bad-query")


def test_roster_as_of_shows_who_was_at_the_site_at_a_field_time(api: Api) -> None:
    code = api.open_site()
    early = api.person(code, occurred_at=at(0))
    late = api.person(code, occurred_at=at(2))
    api.registry.record_departure(
        person_id=early, reason="returned", occurred_at=at(4), actor="setup"
    )
    api.wait()
    path = f"/sites/{code}/roster"

    def present(hours: float, **params: Any) -> list[str]:
        page = get(api, path, as_of=at(hours).isoformat(), **params)
        if params.get("format") == "csv":
            return [r["person_id"] for r in csv.DictReader(io.StringIO(page.text))]
        return [r["person_id"] for r in page.json()["items"]]

    assert present(1) == [str(early)]
    assert sorted(present(3)) == sorted([str(early), str(late)])
    assert present(5) == [str(late)]
    assert present(5, format="csv") == [str(late)]
    assert present(-1) == []
    naive = api.client.get(
        PREFIX + path, params={"as_of": "2025-06-01T09:00:00"}, headers=api.auth("admin")
    )
    # Not a date-time as the document defines one (no offset): refused by the schema.
    assert_problem(naive, 422, "invalid-request")


# --- arrivals -----------------------------------------------------------------------------


def test_one_arrival_is_registered_and_readable_at_once(api: Api) -> None:
    code = api.open_site()
    body = {"site_code": code, **arrival_json(api.fresh_code("R"), household_id="H-9",
            specific_needs=["WR"], date_of_birth="1995-04-02",
            estimated_age=None)}  # fmt: skip
    created = api.client.post(f"{PREFIX}/arrivals", json=body, headers=api.auth("registrar"))
    assert created.status_code == 201, created.text
    result = created.json()
    assert result["replayed"] is False
    assert created.headers["X-Log-Position"] == str(result["position"])
    person = get(api, f"/persons/{result['person_id']}", wait_for=result["position"]).json()
    assert person["registration_number"] == body["registration_number"]
    assert (person["site_code"], person["status"]) == (code, "present")
    assert person["date_of_birth"] == "1995-04-02"
    assert person["specific_needs"] == ["WR"]


def test_a_truckload_is_registered_in_one_batch(api: Api) -> None:
    code = api.open_site()
    arrivals = [arrival_json(api.fresh_code("R")) for _ in range(50)]
    created = api.client.post(
        f"{PREFIX}/arrivals/batch",
        json={"site_code": code, "arrivals": arrivals},
        headers=api.auth("registrar"),
    )
    assert created.status_code == 201, created.text
    result = created.json()
    assert len(result["person_ids"]) == 50 and result["position"] == api.head()
    roster = get(api, f"/sites/{code}/roster", limit=1000, wait_for=result["position"]).json()
    assert sorted(numbers(roster["items"])) == sorted(a["registration_number"] for a in arrivals)


# --- persons ---------------------------------------------------------------------------------


def test_names_are_shown_only_to_roles_that_may_see_personal_data(api: Api) -> None:
    code = api.open_site()
    person = api.person(code, biometric_reference=api.fresh_code("BIO"))
    api.wait()
    path = f"{PREFIX}/persons/{person}"
    trail_before = api.writes()[1]

    screener = api.client.get(path, headers=api.auth("screener"))
    assert screener.status_code == 200
    assert screener.json()["given_name"] == "Amina"
    assert screener.json()["biometric_reference"].startswith("BIO")
    assert screener.headers["ETag"] == '"1"'

    officer = api.client.get(path, headers=api.auth("transfer_officer"))
    assert officer.status_code == 200
    shown = officer.json()
    assert shown["registration_number"] and shown["status"] == "present"
    for personal in ("given_name", "family_name", "date_of_birth", "biometric_reference",
                     "birth_date_estimate"):  # fmt: skip
        assert personal not in shown
    assert "Amina" not in officer.text and "Haroun" not in officer.text

    # Only the read that showed names is on the access trail.
    assert api.writes()[1] == trail_before + 1
    trail = get(api, "/audit/access-trail", role="auditor", person_id=str(person)).json()
    assert [e["purpose"] for e in trail["items"]] == ["GET /persons/{id}"]


def test_screening_hold_and_release_move_a_person_between_present_and_held(api: Api) -> None:
    code = api.open_site()
    person = api.person(code)
    step = post(
        api,
        f"/persons/{person}/screening-steps",
        {"step": "medical", "outcome": "cleared"},
        role="screener",
    )
    assert step["person_id"] == str(person) and step["version"] == 2
    held = post(
        api,
        f"/persons/{person}/screening-steps",
        {
            "step": "security",
            "outcome": "held",
            "reason": "interview",
            "authority": "Governor",
            "order_reference": "ORD-1",
        },
        role="screener",
    )
    read = get(api, f"/persons/{person}", wait_for=held["position"]).json()
    assert read["status"] == "held"
    again = api.client.post(
        f"{PREFIX}/persons/{person}/hold",
        json={"reason": "x", "authority": "Governor", "order_reference": "ORD-1"},
        headers=api.auth("screener"),
    )
    assert_problem(again, 409, "person-held")
    released = post(api, f"/persons/{person}/release", {"reason": "cleared"}, role="screener")
    read = get(api, f"/persons/{person}", wait_for=released["position"]).json()
    assert read["status"] == "present"
    held = post(
        api,
        f"/persons/{person}/hold",
        {"reason": "second look", "authority": "Governor", "order_reference": "ORD-1"},
        role="screener",
    )
    assert get(api, f"/persons/{person}", wait_for=held["position"]).json()["status"] == "held"


def test_a_departure_takes_a_person_off_the_roster(api: Api) -> None:
    code = api.open_site()
    person = api.person(code)
    gone = post(api, f"/persons/{person}/departure", {"reason": "resettled"}, role="site_manager")
    read = get(api, f"/persons/{person}", wait_for=gone["position"]).json()
    assert read["status"] == "departed"
    assert get(api, f"/sites/{code}/roster").json()["items"] == []
    again = api.client.post(
        f"{PREFIX}/persons/{person}/departure",
        json={"reason": "resettled"},
        headers=api.auth("site_manager"),
    )
    assert_problem(again, 409, "person-departed")


def test_a_held_person_departs_only_as_deceased_or_absconded(api: Api) -> None:
    held = api.held_person(api.open_site())
    head = api.head()
    refused = api.client.post(
        f"{PREFIX}/persons/{held}/departure",
        json={"reason": "returned"},
        headers=api.auth("site_manager"),
    )
    assert_problem(refused, 409, "held-person-departure")
    assert api.head() == head
    post(api, f"/persons/{held}/departure", {"reason": "deceased"}, role="site_manager")


def test_a_correction_changes_the_detail_and_keeps_the_original_in_history(api: Api) -> None:
    code = api.open_site()
    person = api.person(code)
    fixed = post(
        api,
        f"/persons/{person}/corrections",
        {"field": "sex", "value": "male", "reason": "typed wrong"},
        role="registrar",
    )
    assert get(api, f"/persons/{person}", wait_for=fixed["position"]).json()["sex"] == "male"
    history = get(api, f"/audit/persons/{person}/history", role="auditor").json()
    assert history["state"]["sex"] == "male"
    assert len(history["events"]) == 2


def test_an_if_match_on_a_stale_version_is_refused(api: Api) -> None:
    code = api.open_site()
    person = api.person(code)
    api.wait()
    etag = get(api, f"/persons/{person}").headers["ETag"]
    first = api.client.post(
        f"{PREFIX}/persons/{person}/corrections",
        json={"field": "nationality", "value": "SSD", "reason": "document seen"},
        headers={**api.auth("registrar"), "If-Match": etag},
    )
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    stale = api.client.post(
        f"{PREFIX}/persons/{person}/corrections",
        json={"field": "nationality", "value": "TCD", "reason": "other document"},
        headers={**api.auth("registrar"), "If-Match": etag},
    )
    # RFC 9110: a failed precondition is 412, and nothing was written.
    assert_problem(stale, 412, "precondition-failed")


def test_a_duplicate_registration_is_merged_into_the_survivor(api: Api) -> None:
    code = api.open_site()
    survivor, duplicate = api.register(code, 2)
    merged = post(
        api,
        f"/persons/{duplicate}/merge",
        {"survivor_id": str(survivor), "reason": "same fingerprints"},
        role="site_manager",
    )
    assert (merged["duplicate_id"], merged["survivor_id"]) == (str(duplicate), str(survivor))
    read = get(api, f"/persons/{duplicate}", wait_for=merged["position"]).json()
    assert read["status"] == "merged" and read["merged_into"] == str(survivor)
    roster = get(api, f"/sites/{code}/roster").json()["items"]
    assert [r["person_id"] for r in roster] == [str(survivor)]


# --- transfers ---------------------------------------------------------------------------------


def test_a_transfer_is_planned_dispatched_received_and_reconciled(api: Api) -> None:
    origin, destination = api.open_site(), api.open_site(kind="camp")
    people = api.register(origin, 3)
    planned = post(
        api,
        "/transfers",
        {"origin": origin, "destination": destination,
         "manifest": [str(p) for p in people], "vehicle": "truck 7", "order_reference": "MO-1"},
        role="transfer_officer",
    )  # fmt: skip
    transfer = planned["transfer_id"]
    read = get(api, f"/transfers/{transfer}", wait_for=planned["position"]).json()
    assert (read["state"], read["manifest_count"]) == ("planned", 3)

    dispatched = post(api, f"/transfers/{transfer}/dispatch", {}, role="transfer_officer")
    moving = get(api, "/transfers/in-transit", wait_for=dispatched["position"]).json()["items"]
    assert transfer in [t["transfer_id"] for t in moving]
    assert get(api, f"/persons/{people[0]}").json()["status"] == "in_transit"

    received = post(
        api,
        f"/transfers/{transfer}/receipts",
        {"site_code": destination, "persons": [str(people[0]), str(people[1])]},
        role="transfer_officer",
    )
    assert received["state"] == "dispatched" and received["missing"] == [str(people[2])]
    reconciled = post(api, f"/transfers/{transfer}/reconcile", {}, role="transfer_officer")
    assert reconciled["unaccounted_for"] == [str(people[2])]

    missing = get(api, "/transfers/unaccounted", wait_for=reconciled["position"]).json()["items"]
    assert (str(people[2]), transfer) in [(m["person_id"], m["transfer_id"]) for m in missing]
    assert transfer not in [
        t["transfer_id"] for t in get(api, "/transfers/in-transit").json()["items"]
    ]
    final = get(api, f"/transfers/{transfer}").json()
    assert (final["state"], final["received_count"], final["unaccounted_count"]) == (
        "reconciled", 2, 1,
    )  # fmt: skip
    roster = get(api, f"/sites/{destination}/roster").json()["items"]
    assert sorted(r["person_id"] for r in roster) == sorted([str(people[0]), str(people[1])])


def test_a_cancelled_transfer_frees_its_manifest(api: Api) -> None:
    origin, destination = api.open_site(), api.open_site(kind="camp")
    transfer = api.planned_transfer(origin, destination)
    cancelled = post(
        api, f"/transfers/{transfer}/cancel", {"reason": "road closed"}, role="transfer_officer"
    )
    read = get(api, f"/transfers/{transfer}", wait_for=cancelled["position"]).json()
    assert read["state"] == "cancelled"
    replanned = post(
        api,
        "/transfers",
        {"origin": origin, "destination": destination,
         "manifest": [str(p) for p in api.manifest(transfer)]},
        role="transfer_officer",
    )  # fmt: skip
    read = get(api, f"/transfers/{replanned['transfer_id']}", wait_for=replanned["position"])
    assert read.json()["state"] == "planned"


# --- households -----------------------------------------------------------------------------


def test_a_household_split_by_a_transfer_is_listed_as_separated(api: Api) -> None:
    origin, destination = api.open_site(), api.open_site(kind="camp")
    household = api.fresh_code("HH")
    parent, child = api.register(origin, 2, household_id=household)
    together = get(api, f"/households/{household}", wait_for=api.head()).json()
    assert together["separated"] is False and together["member_count"] == 2
    api.registry.plan_transfer(
        origin=origin, destination=destination, manifest=[parent], actor="setup"
    )
    transfer = api.registry.get_person(parent).transfer_id
    assert transfer is not None
    api.registry.dispatch_transfer(transfer_id=transfer, actor="setup")

    apart = get(api, f"/households/{household}", wait_for=api.head()).json()
    assert apart["separated"] is True and apart["in_transit"] == 1
    assert {m["person_id"]: m["status"] for m in apart["members"]} == {
        str(parent): "in_transit", str(child): "present",
    }  # fmt: skip
    listed = get(api, "/households/separated", site_code=origin, role="site_manager").json()
    assert household in [h["household_id"] for h in listed["items"]]
    every = get(api, "/households/separated").json()["items"]
    assert household in [h["household_id"] for h in every]
    unknown = api.client.get(f"{PREFIX}/households/HH-nobody", headers=api.auth("admin"))
    assert_problem(unknown, 404, "household-not-found")


# --- health -----------------------------------------------------------------------------------


def test_health_answers_without_a_token(api: Api) -> None:
    for path in (f"{PREFIX}/health", "/health"):
        health = api.client.get(path)
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok" and body["database"] is True
        assert body["head"] == api.head() and set(body["lag"]) >= {"roster", "occupancy"}


def test_metrics_label_routes_by_template_for_a_monitor_token(api: Api) -> None:
    api.client.get("/health")
    metrics = api.client.get("/metrics", headers=api.auth("monitor"))
    assert metrics.status_code == 200
    assert "campledger_http_requests_total" in metrics.text
    assert 'route="/health"' in metrics.text
    # Route templates label the series, never the ids in a path.
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", metrics.text)


def test_the_schema_lists_every_resource(api: Api) -> None:
    paths = set(api.client.get("/openapi.json").json()["paths"])
    for expected in (
        "/sites", "/sites/{code}", "/sites/{code}/capacity", "/sites/{code}/close",
        "/sites/{code}/roster", "/sites/{code}/occupancy", "/sites/occupancy",
        "/sites/{code}/flows", "/sites/flows", "/arrivals", "/arrivals/batch",
        "/persons/{person_id}", "/persons/{person_id}/screening-steps",
        "/persons/{person_id}/hold", "/persons/{person_id}/release",
        "/persons/{person_id}/departure", "/persons/{person_id}/corrections",
        "/persons/{person_id}/merge", "/transfers", "/transfers/{transfer_id}",
        "/transfers/{transfer_id}/dispatch", "/transfers/{transfer_id}/receipts",
        "/transfers/{transfer_id}/reconcile", "/transfers/{transfer_id}/cancel",
        "/transfers/in-transit", "/transfers/unaccounted", "/households/{household_id}",
        "/households/separated", "/health",
    ):  # fmt: skip
        assert PREFIX + expected in paths
