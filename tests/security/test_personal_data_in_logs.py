"""No name, date of birth or biometric reference ever reaches a log, even at DEBUG.

One scenario touches every path personal data takes: registrations (single, batch, CSV
import, offline sync), screening, holds, transfers, corrections to personal values, a
merge, commands refused with personal data in their bodies, and every read that shows
personal data. It runs twice: against ``campledger serve --log-level DEBUG`` (uvicorn's
access log included; its stdout and stderr kept), and in-process with every logger at
DEBUG and pytest's caplog. Afterwards every personal value registered is searched for in
all that was logged; none may be found.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import PREFIX, Api, arrival_json
from tests.reliability.support import Figures, Server, make_token

Call = Callable[..., httpx.Response]


@dataclass
class Personal:
    """Personal values registered in a run, made unmistakable so any leak is found."""

    tag: str = field(default_factory=lambda: secrets.token_hex(3).upper())
    values: list[str] = field(default_factory=list)
    _day: int = 0

    def name(self, kind: str) -> str:
        value = f"{kind}{self.tag}{len(self.values)}q"
        self.values.append(value)
        return value

    def birth(self) -> str:
        self._day += 1
        born = date(1950, 1, 1) + timedelta(days=self._day * 211 + int(self.tag, 16) % 97)
        # The ISO form, and the repr a careless log line of a dataclass would show.
        self.values += [born.isoformat(), repr(born)]
        return born.isoformat()

    def biometric(self) -> str:
        value = f"BIO-{self.tag}-{uuid.uuid4().hex[:10]}"
        self.values.append(value)
        return value

    def arrival(self, number: str, **overrides: Any) -> dict[str, Any]:
        personal = {
            "given_name": self.name("Zeinab"),
            "family_name": self.name("Abdelkerim"),
            "date_of_birth": self.birth(),
            "estimated_age": None,
            "biometric_reference": self.biometric(),
        }
        return arrival_json(number, **{**personal, **overrides})


def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text[:300]
    found: dict[str, Any] = response.json() if "json" in response.headers["content-type"] else {}
    return found


def refused(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, response.text[:300]


def scenario(call: Call, people: Personal) -> int:
    """Every command and read that carries personal data; returns the requests sent."""
    sent = 0

    def send(method: str, path: str, **kwargs: Any) -> httpx.Response:
        nonlocal sent
        sent += 1
        return call(method, path, **kwargs)

    tag = people.tag
    home, camp = f"RC-{tag}", f"CAMP-{tag}"
    for code, kind in ((home, "reception"), (camp, "camp")):
        body = {"code": code, "name": code, "kind": kind, "capacity": 100}
        ok(send("POST", "/sites", json=body))

    # Registrations: one by one, a household in a batch, a CSV import, an offline sync.
    persons = [
        ok(send("POST", "/arrivals", json={"site_code": home, **people.arrival(f"R-{tag}-{n}")}))
        for n in range(3)
    ]
    ids = [p["person_id"] for p in persons]
    household = [
        people.arrival(f"R-{tag}-H{n}", household_id=f"HH-{tag}",
                       relationship="focal_point" if n == 0 else "child")
        for n in range(2)
    ]  # fmt: skip
    batch = ok(send("POST", "/arrivals/batch", json={"site_code": home, "arrivals": household}))
    ids += batch["person_ids"]
    first = people.arrival(f"R-{tag}-CSV")
    csv = (
        "registration_number,given_name,family_name,sex,nationality,date_of_birth,"
        "biometric_reference\n"
        f"{first['registration_number']},{first['given_name']},{first['family_name']},female,"
        f"SDN,{first['date_of_birth']},{first['biometric_reference']}\n"
    )
    ok(send("POST", f"/sites/{home}/imports", content=csv,
            headers={"Content-Type": "text/csv"}))  # fmt: skip
    synced = people.arrival(f"R-{tag}-SYNC")
    item = {"type": "register_arrival", "device_id": "tab-1", "idempotency_key": f"k-{tag}",
            "occurred_at": "2025-03-01T08:30:00Z",
            "body": {"site_code": home, **synced}}  # fmt: skip
    ok(send("POST", "/sync", json={"atomic": True, "items": [item]}))

    # Screening, a hold and its release, a transfer all the way.
    step = {"step": "identity", "outcome": "cleared", "reason": "documents seen"}
    ok(send("POST", f"/persons/{ids[0]}/screening-steps", json=step))
    ok(
        send(
            "POST",
            f"/persons/{ids[1]}/hold",
            json={"reason": "interview", "authority": "Governor", "order_reference": "ORD-1"},
        )
    )
    ok(send("POST", f"/persons/{ids[1]}/release", json={"reason": "cleared"}))
    plan = {"origin": home, "destination": camp, "manifest": [ids[2]]}
    transfer = ok(send("POST", "/transfers", json=plan))["transfer_id"]
    ok(send("POST", f"/transfers/{transfer}/dispatch", json={}))
    ok(send("POST", f"/transfers/{transfer}/receipts",
            json={"site_code": camp, "persons": [ids[2]]}))  # fmt: skip

    # Corrections to personal values, and a merge.
    for field_name, value in (
        ("given_name", people.name("Hawa")),
        ("family_name", people.name("Mahamat")),
        ("date_of_birth", people.birth()),
        ("biometric_reference", people.biometric()),
    ):
        correction = {"field": field_name, "value": value, "reason": "document seen"}
        ok(send("POST", f"/persons/{ids[0]}/corrections", json=correction))
    merge = {"survivor_id": ids[3], "reason": "same"}
    written = ok(send("POST", f"/persons/{ids[4]}/merge", json=merge))["position"]

    # Refused commands with personal data in their bodies.
    duplicate_number = {"site_code": home, **people.arrival(f"R-{tag}-0")}
    refused(send("POST", "/arrivals", json=duplicate_number))
    same_biometric = {**people.arrival(f"R-{tag}-B"), "biometric_reference": household[0][
        "biometric_reference"]}  # fmt: skip
    refused(send("POST", "/arrivals", json={"site_code": home, **same_biometric}))
    refused(send("POST", "/arrivals", json={"site_code": home, **people.arrival(
        f"R-{tag}-N", nationality="QQQ")}))  # fmt: skip
    unknown_site = {"site_code": "NOWHERE", **people.arrival(f"R-{tag}-W")}
    refused(send("POST", "/arrivals", json=unknown_site))
    refused(send("POST", "/arrivals", json={"site_code": home, **people.arrival(
        f"R-{tag}-U"), "nickname": people.name("Achta")}))  # fmt: skip
    refused(send("POST", "/arrivals", json={"site_code": home, **people.arrival(
        f"R-{tag}-Z", given_name=people.name("Kaltouma") + "\x00")}))  # fmt: skip
    future_birth = {"field": "date_of_birth", "value": "2999-01-01", "reason": "typo"}
    refused(send("POST", f"/persons/{ids[0]}/corrections", json=future_birth))
    bad_name = {"field": "given_name", "value": people.name("Fatime") * 40, "reason": "long"}
    refused(send("POST", f"/persons/{ids[0]}/corrections", json=bad_name))
    hold = {"reason": "x", "authority": "Governor", "order_reference": "ORD-1"}
    refused(send("POST", f"/persons/{ids[2]}/hold", json=hold, headers={"If-Match": '"999"'}))
    bad_csv = csv.replace(",female,", ",robot,").replace(f"R-{tag}-CSV", f"R-{tag}-CSV2")
    refused(send("POST", f"/sites/{home}/imports", content=bad_csv,
                 headers={"Content-Type": "text/csv"}))  # fmt: skip
    bad_item = {**item, "idempotency_key": f"k2-{tag}",
                "body": {"site_code": "NOWHERE", **people.arrival(f"R-{tag}-S2")}}  # fmt: skip
    refused(send("POST", "/sync", json={"atomic": True, "items": [bad_item]}))
    name = people.name("Mariam")
    refused(send("POST", "/arrivals", content=f'{{"given_name": "{name}", ',
                 headers={"Content-Type": "application/json"}))  # fmt: skip
    refused(send("POST", "/arrivals", content=f"given_name={name}",
                 headers={"Content-Type": "text/plain"}))  # fmt: skip

    # Every read that shows personal data.
    # Reads wait for the last write: a loaded machine projects it later than the next request.
    ok(send("GET", f"/persons/{ids[0]}", params={"wait_for": written}))
    for person in ids:
        ok(send("GET", f"/persons/{person}"))
        ok(send("GET", f"/audit/persons/{person}/history", params={"personal": "true"}))
    for code in (home, camp):
        ok(send("GET", f"/sites/{code}/roster"))
        ok(send("GET", f"/sites/{code}/roster", params={"format": "csv"}))
    ok(send("GET", f"/households/HH-{tag}"))
    ok(send("GET", "/duplicates"))
    ok(send("GET", "/audit/log"))
    ok(send("GET", "/audit/log.csv"))
    ok(send("GET", "/audit/access-trail"))
    return sent


def leaks(text: str, people: Personal) -> list[str]:
    return sorted({value for value in people.values if value in text})


# --- the running server, at DEBUG -----------------------------------------------------------


@pytest.fixture
def debug_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = Server(database_url, tmp_path / "serve")
    server.args = [*server.args, "--log-level", "DEBUG"]
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_running_server_logs_no_personal_data_at_debug(
    debug_server: Server, database_url: str, figures: Figures
) -> None:
    people = Personal()
    token = make_token(database_url, "admin")
    with debug_server.client(token) as client:
        requests = scenario(client.request, people)
    debug_server.stop()  # everything flushed, shutdown lines included
    logged = debug_server.output()
    # The log is really at DEBUG and really saw the scenario: otherwise this proves nothing.
    assert "POST /persons/{person_id}" in logged and "DEBUG" in logged, logged[-2000:]
    assert leaks(logged, people) == [], "personal data in the server's output"
    figures.record(
        "personal data in the running server's DEBUG output",
        requests=requests,
        personal_values_searched=len(people.values),
        log_lines=logged.count("\n"),
        found=0,
    )


# --- in-process, every logger at DEBUG -------------------------------------------------------


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at DEBUG, and every logger too: libraries (psycopg's among them) raise their
    own loggers' thresholds, which caplog's root level alone would not lower."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    before = {lg.name: (lg.level, lg.disabled) for lg in loggers}
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for lg in loggers:
            lg.level, lg.disabled = before[lg.name]


def test_the_app_logs_no_personal_data_at_debug(
    api: Api,
    every_logger_at_debug: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    figures: Figures,
) -> None:
    people = Personal()
    headers = api.auth("admin")

    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
        return api.client.request(method, PREFIX + path, **kwargs)

    requests = scenario(call, people)
    records = every_logger_at_debug.records
    # Messages as formatted, their raw arguments, and any exception text attached.
    logged = "\n".join(
        [every_logger_at_debug.text]
        + [repr(r.args) for r in records]
        + [repr(r.exc_info) for r in records if r.exc_info]
    )
    out, err = capfd.readouterr()
    assert records, "nothing was logged at DEBUG: the capture proves nothing"
    assert leaks(logged + out + err, people) == [], "personal data in the app's logs"
    figures.record(
        "personal data in the app's DEBUG logs (in-process)",
        requests=requests,
        personal_values_searched=len(people.values),
        log_records=len(records),
        found=0,
    )
