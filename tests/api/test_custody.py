"""The desert reception story through the HTTP API, with no workaround.

A truck reaches a reception point; the men go through a security screening step; some
are held on an authority's order; they are moved in custody to a holding facility,
dispatched and received there, and the holds register shows them held, with days held
and one hold overdue for review. Each held man's history reads: arrival, security
screening (held, by whom, on whose order), placed on a custody manifest, dispatched,
received at the holding facility, still held.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem

GOVERNOR = "Governor of Ouaddaï"


def call(api: Api, method: str, path: str, role: str, body: Any = None, **params: Any) -> Any:
    response = api.client.request(
        method, PREFIX + path, json=body, params=params or None, headers=api.auth(role)
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def at(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


def test_held_men_are_moved_in_custody_to_a_holding_facility_and_stay_held(api: Api) -> None:
    reception = api.fresh_code("RC")
    holding = api.fresh_code("HF")
    camp = api.fresh_code("CAMP")
    for code, kind in ((reception, "reception"), (holding, "holding"), (camp, "camp")):
        call(api, "POST", "/sites", "admin", {"code": code, "name": f"Site {code}",
             "kind": kind, "capacity": 500, "occurred_at": at(30)})  # fmt: skip

    # A truck of ten: six men, four women, registered 21 days ago.
    truck = [
        arrival_json(api.fresh_code("TIN"), sex=sex, estimated_age=30, occurred_at=at(21))
        for sex in ["male"] * 6 + ["female"] * 4
    ]
    batch = call(api, "POST", "/arrivals/batch", "registrar",
                 {"site_code": reception, "arrivals": truck})  # fmt: skip
    men = batch["person_ids"][:6]

    # Every man goes through security screening; three are cleared, three held on orders.
    # The first hold was due for review ten days ago.
    for man in men[:3]:
        call(api, "POST", f"/persons/{man}/screening-steps", "screener",
             {"step": "security", "outcome": "cleared", "occurred_at": at(20.5)})  # fmt: skip
    held = men[3:]
    reviews = [date.today() - timedelta(days=10), date.today() + timedelta(days=30), None]
    for n, (man, review) in enumerate(zip(held, reviews, strict=True)):
        call(api, "POST", f"/persons/{man}/screening-steps", "screener", {
            "step": "security", "outcome": "held", "reason": "further investigation",
            "authority": GOVERNOR, "order_reference": f"GOV-OUA-114/{n}",
            "review_date": review and review.isoformat(), "occurred_at": at(20),
        })  # fmt: skip

    # A held man cannot go to the camp...
    refused = api.client.post(PREFIX + "/transfers", headers=api.auth("transfer_officer"),
                              json={"origin": reception, "destination": camp,
                                    "manifest": [men[0], held[0]]})  # fmt: skip
    problem = assert_problem(refused, 409, "person-held")
    assert "holding facility" in problem["detail"]

    # ...but goes in custody to the holding facility.
    planned = call(api, "POST", "/transfers", "transfer_officer", {
        "origin": reception, "destination": holding, "manifest": held,
        "vehicle": "Escort truck 2", "order_reference": "MOV-HF-7", "occurred_at": at(19),
    })  # fmt: skip
    transfer = planned["transfer_id"]
    call(api, "POST", f"/transfers/{transfer}/dispatch", "transfer_officer",
         {"occurred_at": at(18)})  # fmt: skip
    received = call(api, "POST", f"/transfers/{transfer}/receipts", "transfer_officer",
                    {"site_code": holding, "persons": held, "occurred_at": at(17.5)})  # fmt: skip
    api.wait(received["position"])

    shown = call(api, "GET", f"/transfers/{transfer}", "transfer_officer")
    assert shown["custody_count"] == 3
    assert {str(m["person_id"]): m["in_custody"] for m in shown["manifest"]} == dict.fromkeys(
        held, True
    )

    # The holds register: all three held at the holding facility, since 20 days.
    register = call(api, "GET", "/holds", "site_manager", site=holding)
    rows = {r["person_id"]: r for r in register["items"]}
    assert set(rows) == set(held) and register["next_cursor"] is None
    first = rows[held[0]]
    assert (first["status"], first["site_code"], first["held_at_site"]) == (
        "held", holding, reception,
    )  # fmt: skip
    assert (first["authority"], first["order_reference"]) == (GOVERNOR, "GOV-OUA-114/0")
    assert first["days_held"] == 20 and first["given_name"] == "Amina"
    assert [r["overdue"] for r in register["items"]] == [True, False, False]
    overdue = call(api, "GET", "/holds", "auditor", overdue="true")["items"]
    assert [r["person_id"] for r in overdue if r["site_code"] == holding] == [held[0]]
    # Paged with an opaque cursor, as rosters are.
    page = call(api, "GET", "/holds", "site_manager", site=holding, limit=2)
    rest = call(api, "GET", "/holds", "site_manager", site=holding, cursor=page["next_cursor"])
    assert [r["person_id"] for r in page["items"] + rest["items"]] == [
        r["person_id"] for r in register["items"]
    ]

    # The holding facility's occupancy counts them, all held.
    occupancy = call(api, "GET", f"/sites/{holding}/occupancy", "site_manager")
    assert (occupancy["total"], occupancy["held"]) == (3, 3)

    # Each held man's history tells the story, and ends held at the holding facility.
    history = call(api, "GET", f"/audit/persons/{held[0]}/history", "auditor")
    events = history["events"]
    assert [e["action"] for e in events] == [
        "registered",
        "screening_step_recorded",
        "placed_on_manifest",
        "transfer_dispatched",
        "transfer_received",
    ]
    screening = events[1]
    assert screening["actor"].startswith("screener")
    assert screening["reference"] == {
        "step": "security", "outcome": "held", "authority": GOVERNOR,
        "order_reference": "GOV-OUA-114/0", "review_date": reviews[0].isoformat(),
    }  # fmt: skip
    assert events[2]["reference"]["in_custody"] is True
    assert events[2]["reference"]["order_reference"] == "MOV-HF-7"
    assert events[4]["site_code"] == holding
    final = history["state"]
    assert (final["status"], final["site_code"], final["held"]) == ("held", holding, True)
    assert final["hold_order_reference"] == "GOV-OUA-114/0"


def test_a_hold_needs_the_authority_and_order_reference(api: Api) -> None:
    site = api.open_site()
    person = api.person(site)
    for body in (
        {"reason": "interview"},
        {"reason": "interview", "authority": GOVERNOR},
        {"reason": "interview", "order_reference": "GOV-1"},
    ):
        response = api.client.post(
            f"{PREFIX}/persons/{person}/hold", json=body, headers=api.auth("screener")
        )
        assert response.status_code == 422, response.text
    screening = {"step": "security", "outcome": "held", "reason": "interview"}
    response = api.client.post(
        f"{PREFIX}/persons/{person}/screening-steps", json=screening, headers=api.auth("screener")
    )
    assert response.status_code == 422, response.text


def test_a_site_scoped_token_sees_only_holds_of_its_sites(api: Api) -> None:
    mine, theirs = api.open_site(), api.open_site()
    here, there = api.held_person(mine), api.held_person(theirs)
    api.wait()
    scoped = api.auth("screener", [mine])
    listed: httpx.Response = api.client.get(f"{PREFIX}/holds", headers=scoped)
    ids = {r["person_id"] for r in listed.json()["items"]}
    assert str(here) in ids and str(there) not in ids
    refused = api.client.get(f"{PREFIX}/holds", params={"site": theirs}, headers=scoped)
    assert_problem(refused, 403, "out-of-scope")
    transfer_officer = api.client.get(f"{PREFIX}/holds", headers=api.auth("transfer_officer"))
    assert_problem(transfer_officer, 403, "forbidden")
