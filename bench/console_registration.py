"""Saving a 500-person truckload from the console's registration grid, against the API's
batch of the same 500 people.

Starts the real server (``campledger serve``, live projector included) on a free loopback
port against a fresh database (the embedded server, or a new database on
CAMPLEDGER_DATABASE_URL's server), registers a caseload at one site (``--people``, names
and households from ``bench.duplicates_projection``, so the duplicates model has real
blocks to search), waits for every read model to catch up, signs in to the console as a
registrar, then, alternating, ``--saves`` times each:

- grid: the registration page drawn (not timed), then its POST of 500 rows (about 6,500
  fields, urlencoded, as a browser sends it) until its 303: reading the form, the CSRF
  check, the rows read into arrivals, ``RegisterArrivals`` through the catalogue, and the
  wait until the read models (duplicates included) show the write. Target: under 1 s.
- confirmation: the page after, which lists the new records the duplicates model pairs
  with one already recorded (timed apart: the browser's next request).
- API baseline: ``POST /api/v1/arrivals/batch`` with the same kind of 500 people as JSON,
  under a registrar's token, until its 201; it does not wait for the read models, so the
  projector's catch-up is measured after it (``/health`` lag back to 0) and reported too.

Each truckload is 500 new people (fresh registration numbers), drawn from the caseload's
own households. The client is httpx, on the same machine as the server and PostgreSQL.

    python -m bench.console_registration [--people 20000] [--saves 10]
"""

from __future__ import annotations

import re
import signal
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from bench.api_load import as_url, running_server
from bench.console_session import CSRF, account_and_token, sign_in, wait_for_projection
from bench.duplicates_projection import caseload
from bench.support import fresh_database, library_env_for
from campledger.domain.commands import MAX_BATCH
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry

console = Console(width=None if sys.stdout.isatty() else 160)

SITE = "RC-BENCH"
NAME = "Bench Registrar"
TRUCKLOAD = 500
TARGET_S = 1.0
FORM_KEY = re.compile(r'name="form_key" value="([0-9a-f]{32})"')


def seed(url: str, people: int) -> list[Arrival]:
    """Register ``people`` at the site; returns arrivals for the truckloads to come (the
    same households and names, not yet registered)."""
    load = caseload(people + 40 * TRUCKLOAD, seed=23).arrivals
    registry = Registry(env=library_env_for(url))
    try:
        registry.open_site(code=SITE, name="Bench reception", kind="reception",
                           capacity=10_000_000, actor="bench")  # fmt: skip
        for i in range(0, people, MAX_BATCH):
            registry.register_arrivals(
                site_code=SITE, arrivals=load[i : min(people, i + MAX_BATCH)], actor="bench"
            )
    finally:
        registry.close()
    return load[people:]


def numbered(arrivals: list[Arrival], run: str) -> Iterator[Arrival]:
    for i, a in enumerate(arrivals):
        yield Arrival(**{**a.details(), "registration_number": f"{run}-{i:04d}"})


def grid_fields(arrivals: list[Arrival]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for row, a in enumerate(arrivals):
        values = {
            "household_id": a.household_id or f"HH-{row}",
            "relationship": a.relationship or "",
            "given_name": a.given_name,
            "family_name": a.family_name,
            "given_name_latin": a.given_name_latin or "",
            "family_name_latin": a.family_name_latin or "",
            "sex": a.sex,
            "date_of_birth": a.date_of_birth.isoformat() if a.date_of_birth else "",
            "estimated_age": "" if a.estimated_age is None else str(a.estimated_age),
            "nationality": a.nationality,
            "registration_number": a.registration_number,
            "biometric_reference": a.biometric_reference or "",
            "specific_needs": ", ".join(a.specific_needs),
        }
        fields.update({f"r{row}-{column}": value for column, value in values.items()})
    return fields


def api_body(arrivals: list[Arrival]) -> dict[str, Any]:
    people = []
    for a in arrivals:
        person = {k: v for k, v in a.details().items() if v not in (None, (), "")}
        if a.date_of_birth:
            person["date_of_birth"] = a.date_of_birth.isoformat()
        person["specific_needs"] = list(a.specific_needs)
        people.append(person)
    return {"site_code": SITE, "arrivals": people}


@dataclass
class Timing:
    label: str
    seconds: list[float] = field(default_factory=list)

    def ms(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def max_ms(self) -> float:
        return 1000 * max(self.seconds)

    @property
    def p50_ms(self) -> float:
        return 1000 * statistics.median(self.seconds)


def measure(
    base: str, token: str, truckloads: list[list[Arrival]], saves: int
) -> tuple[list[Timing], int]:
    grid = Timing(f"console grid save, {TRUCKLOAD} rows (POST → 303)")
    confirmation = Timing("console confirmation page (likely duplicates)")
    api = Timing(f"API /arrivals/batch, {TRUCKLOAD} people (→ 201)")
    projected = Timing("  API batch, then read models caught up")
    body_bytes = 0
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        sign_in(client, NAME)
        for i in range(saves + 1):  # the first of each is a warm-up
            load = list(numbered(truckloads[2 * i], f"G{i}"))
            page = client.get(f"/register?site={SITE}").text
            key, csrf = FORM_KEY.search(page), CSRF.search(page)
            assert key and csrf, "the registration page has no form"
            data = {"site": SITE, "form_key": key.group(1), "csrf_token": csrf.group(1),
                    **grid_fields(load)}  # fmt: skip
            request = client.build_request("POST", "/register", data=data)
            body_bytes = len(request.read())
            start = time.perf_counter()
            saved = client.send(request)
            took = time.perf_counter() - start
            if saved.status_code != 303:
                raise RuntimeError(f"grid save: {saved.status_code} {saved.text[:500]}")
            start = time.perf_counter()
            shown = client.get(saved.headers["location"])
            shown_took = time.perf_counter() - start
            assert f"{TRUCKLOAD} people registered." in shown.text
            body = api_body(list(numbered(truckloads[2 * i + 1], f"A{i}")))
            start = time.perf_counter()
            answer = client.post("/api/v1/arrivals/batch", json=body, headers=auth)
            api_took = time.perf_counter() - start
            if answer.status_code != 201:
                raise RuntimeError(f"API batch: {answer.status_code} {answer.text[:500]}")
            caught_up = wait_for_projection(base, poll=0.02)
            if i == 0:
                continue
            grid.seconds.append(took)
            confirmation.seconds.append(shown_took)
            api.seconds.append(api_took)
            projected.seconds.append(api_took + caught_up)
    return [grid, confirmation, api, projected], body_bytes


def report(timings: list[Timing], body_bytes: int, people: int) -> None:
    grid, _, api, _ = timings
    table = Table(title=f"Saving a truckload of {TRUCKLOAD}, site of {people:,} people")
    for column in ("request", "n", "p50 ms", "p95 ms", "max ms", "× API p50", "target", "met"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for t in timings:
        target = f"< {TARGET_S * 1000:.0f}" if t is grid else ""
        met = ("met" if t.ms(0.95) < TARGET_S * 1000 else "NOT met") if t is grid else ""
        table.add_row(
            t.label, str(len(t.seconds)), f"{t.p50_ms:.0f}", f"{t.ms(0.95):.0f}",
            f"{t.max_ms:.0f}", "" if t is api else f"{t.p50_ms / api.p50_ms:.2f}x", target, met,
        )  # fmt: skip
    console.print(table)
    console.print(
        f"The grid's form: {body_bytes / 1024:,.0f} KB urlencoded, "
        f"{TRUCKLOAD * 13 + 3:,} fields. The grid's save includes the wait until the read "
        "models show the write (as every console form does); the API's answer does not, so "
        "its catch-up is shown on the row below it. Client, server, projector and "
        "PostgreSQL share the machine."
    )


def main(
    people: Annotated[int, typer.Option(help="People registered at the site first.")] = 20_000,
    saves: Annotated[int, typer.Option(help="Timed saves (and as many API batches).")] = 10,
) -> None:
    # Stopped from outside (timeout, CI): still stop the server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if 2 * (saves + 1) > 40:
        raise typer.BadParameter("at most 19 saves (the caseload drawn holds 40 truckloads)")
    with fresh_database("bench_console_registration") as conninfo:
        url = as_url(conninfo)
        start = time.perf_counter()
        rest = seed(url, people)
        seeded = time.perf_counter() - start
        truckloads = [rest[i : i + TRUCKLOAD] for i in range(0, len(rest), TRUCKLOAD)]
        with running_server(url, workers=1) as (base, _):
            projected = wait_for_projection(base, poll=0.02)
            token = account_and_token(url, NAME, "registrar", "bench-registrar")
            console.print(f"{people:,} people registered in {seeded:.0f} s, projected in "
                          f"{projected:.0f} s more; measuring…")  # fmt: skip
            timings, body_bytes = measure(base, token, truckloads, saves)
    report(timings, body_bytes, people)


if __name__ == "__main__":
    typer.run(main)
