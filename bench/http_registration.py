"""A single registration over HTTP against its ceiling on this machine, and roster pages
on a site of 100,000 people: the HTTP rows of the speed issue, measured in one run.

Two servers run side by side, each on a fresh database of its own on the same PostgreSQL:
the real one (``campledger serve``, its projector included) and ``bench.minimal_app``, the
least a FastAPI server can do for the same request (the same body validated with the same
pydantic model, one event row and one unique claim written in one statement). The same
lean client (``bench.loadgen``) drives each in turn, alternating them round by round
(A B, B A…) so that whatever else the machine does falls on both:

- closed loop, ``--concurrency`` connections: the rate each sustains, with p50 and p99;
- open loop at ``--rate`` requests/s: p50 and p99 counted from each request's scheduled
  time (coordinated omission).

campledger's closed-loop rate over the minimal app's is the ratio the issue's target is
set on (≥ 0.7x in the same run, and ≥ 400 req/s). After a write phase campledger's
projector is let catch up before anything else is measured.

Then the roster: ``--roster-people`` arrivals at a site of their own through
POST /arrivals/batch (1,000 each), projected, and one client reading pages of 100 in a
closed loop (the roster as it is now, then as of a time during the load).

Cores used meanwhile, by party: this client; the server's own process; campledger's
projector (the server's child); the server's PostgreSQL backends (its database's
connections); the rest of the machine (other databases, WAL, whatever else runs).

    python -m bench.http_registration [--duration 20] [--rounds 2] [--roster-people 100000]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

import httpx
import orjson
import psycopg
import typer
from rich.console import Console
from rich.table import Table

from bench.api_load import (
    PREFIX,
    SITE,
    People,
    _stop,
    _wait_until_up,
    as_url,
    free_port,
    running_server,
    wait_for_projection,
)
from bench.cores import Cores, Pooled, metered
from bench.loadgen import Outcome, RawClient, Send, closed_loop, open_loop
from bench.support import fresh_database
from campledger.api.services.auth import create_token

console = Console(width=None if sys.stdout.isatty() else 200)

CAMPLEDGER, MINIMAL = "campledger", "minimal app"
ROSTER_SITE = "RP-ROSTER"
BATCH = 1_000
# The targets.
TARGET_RATE, TARGET_SHARE = 400.0, 0.7
TARGET_P99_MS = 50.0
ROSTER_P99_MS, AS_OF_P99_MS = 20.0, 100.0
# Registration numbers of the roster's people start here, far from the single ones'.
ROSTER_FIRST = 10_000_000


@contextlib.contextmanager
def minimal_server(url: str) -> Iterator[tuple[str, int]]:
    """``bench.minimal_app`` in its own process group; yields (base URL, pid)."""
    port = free_port()
    command = [sys.executable, "-m", "bench.minimal_app", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*command, "--database-url", url], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process, log)
            yield base, process.pid
        finally:
            _stop(process)


@dataclass
class Target:
    name: str
    base: str
    cores: Cores
    client: RawClient
    headers: dict[str, str]
    database: str
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class Options:
    duration: float
    rounds: int
    concurrency: int
    rate: float
    roster_people: int
    roster_duration: float
    roster_pages: int
    scenarios: set[str]
    workers: int = 1


async def registrations(targets: list[Target], people: People, opt: Options) -> None:
    numbers = itertools.count()
    for target in targets:
        async with httpx.AsyncClient(base_url=target.base, timeout=60) as setup:
            if target.name == CAMPLEDGER:
                site = {"code": SITE, "name": "Load", "kind": "reception", "capacity": 10**7}
                answer = await setup.post(f"{PREFIX}/sites", json=site, headers=target.headers)
                answer.raise_for_status()
        # Warm up: connections, prepared statements, the first call's imports.
        await closed_loop("warm-up", sender(target, people), numbers,
                          connections=opt.concurrency, duration=2)  # fmt: skip
        await settle(target)
    for round_ in range(opt.rounds):
        for target in targets if round_ % 2 == 0 else targets[::-1]:
            console.print(f"round {round_ + 1}/{opt.rounds}: {target.name}")
            send = sender(target, people)
            if "closed" in opt.scenarios:
                closed = closed_loop("closed loop", send, numbers,
                                     connections=opt.concurrency,
                                     duration=opt.duration)  # fmt: skip
                target.outcomes.append(await metered(target.cores, closed, then(target)))
            if "open" in opt.scenarios:
                opened = open_loop("open loop", send, numbers, rate=opt.rate,
                                   connections=opt.concurrency, duration=opt.duration)  # fmt: skip
                target.outcomes.append(await metered(target.cores, opened, then(target)))


def sender(target: Target, people: People) -> Send:
    def single(i: int) -> Awaitable[int]:
        body = orjson.dumps({"site_code": SITE, **people.body(i)})
        headers = {**target.headers, "Content-Type": "application/json"}
        if target.name == CAMPLEDGER:
            headers["Idempotency-Key"] = f"single-{i}"  # as devices send it
        return target.client.request("POST", f"{PREFIX}/arrivals", headers, body)

    return single


def then(target: Target) -> Callable[[], Awaitable[None]]:
    return lambda: settle(target)


async def settle(target: Target) -> None:
    """Until campledger's projector has caught up: the next phase starts quiet."""
    if target.name == CAMPLEDGER:
        async with httpx.AsyncClient(base_url=target.base, timeout=60) as client:
            await wait_for_projection(client)


async def rosters(target: Target, people: People, opt: Options) -> list[tuple[str, Outcome]]:
    """Roster pages of 100 read by one client, on a site of ``roster_people``: campledger's
    (loaded through the API, then also as of halfway through the load), and the minimal
    app's page from a plain table (filled in one statement) as their baseline."""
    headers = target.headers
    async with httpx.AsyncClient(base_url=target.base, timeout=900, headers=headers) as setup:
        if target.name == MINIMAL:
            filled: dict[str, str | int] = {"site": ROSTER_SITE, "people": opt.roster_people}
            (await setup.post("/bench/roster", params=filled)).raise_for_status()
            walks = [
                ("roster page of 100", await roster_targets(setup, headers, {}, opt.roster_pages))
            ]
        else:
            walks = await load_roster(setup, people, opt)
    # A site of people a day old, not a minute: autovacuum has gathered the planner's
    # statistics on the tables filled by the load by then. Here they were filled seconds
    # ago, so gather them now, on both servers' databases alike.
    with psycopg.connect(target.database, autocommit=True) as conn:
        conn.execute("ANALYZE")
    numbers = itertools.count()
    outcomes = []
    for name, pages in walks:

        def read(i: int, pages: list[str] = pages) -> Awaitable[int]:
            return target.client.request("GET", pages[i % len(pages)], headers)

        await closed_loop("warm-up", read, numbers, connections=1, duration=1)
        run = closed_loop(name, read, numbers, connections=1, duration=opt.roster_duration)
        outcome = await metered(target.cores, run)
        outcome.note = f"{len(pages)} pages"
        outcomes.append((target.name, outcome))
    return outcomes


async def load_roster(
    setup: httpx.AsyncClient, people: People, opt: Options
) -> list[tuple[str, list[str]]]:
    """campledger's roster site, registered in batches and projected; the pages to walk,
    now and as of halfway through the load."""
    site = {"code": ROSTER_SITE, "name": "Roster", "kind": "camp", "capacity": 10**7}
    (await setup.post(f"{PREFIX}/sites", json=site)).raise_for_status()
    started = time.perf_counter()
    firsts = iter(range(ROSTER_FIRST, ROSTER_FIRST + opt.roster_people, BATCH))
    halfway: datetime | None = None

    async def load() -> None:
        nonlocal halfway
        for first in firsts:
            last = min(ROSTER_FIRST + opt.roster_people, first + BATCH)
            body = {"site_code": ROSTER_SITE,
                    "arrivals": [people.body(i) for i in range(first, last)]}  # fmt: skip
            answer = await setup.post(f"{PREFIX}/arrivals/batch", json=body)
            if answer.is_error:
                raise RuntimeError(f"loading: {answer.status_code} {answer.text[:300]}")
            if halfway is None and first - ROSTER_FIRST >= opt.roster_people // 2:
                halfway = datetime.now(UTC)

    await asyncio.gather(load(), load())
    await wait_for_projection(setup, timeout=900)
    console.print(
        f"roster site: {opt.roster_people:,} people registered and projected in "
        f"{time.perf_counter() - started:.0f} s"
    )
    headers = dict(setup.headers)
    now = await roster_targets(setup, headers, {}, opt.roster_pages)
    as_of = await roster_targets(
        setup, headers, {"as_of": (halfway or datetime.now(UTC)).isoformat()}, 50
    )
    return [("roster page of 100", now), ("as-of roster page of 100", as_of)]


async def roster_targets(
    client: httpx.AsyncClient, headers: dict[str, str], extra: dict[str, str], pages: int
) -> list[str]:
    """The URLs of the site's first ``pages`` roster pages of 100, walked cursor by cursor."""
    path = f"{PREFIX}/sites/{ROSTER_SITE}/roster"
    cursors: list[str | None] = [None]
    while len(cursors) < pages:
        params: dict[str, str | int] = {"limit": 100, **extra}
        if cursors[-1] is not None:
            params["cursor"] = cursors[-1]
        answer = await client.get(path, params=params, headers=headers)
        answer.raise_for_status()
        if (cursor := answer.json()["next_cursor"]) is None:
            break
        cursors.append(cursor)
    return [
        f"{path}?" + urlencode({"limit": 100, **extra, **({"cursor": c} if c else {})})
        for c in cursors
    ]


# --- reporting -------------------------------------------------------------------------


def report(targets: list[Target], rosters_: list[tuple[str, Outcome]], opt: Options) -> None:
    table = Table(
        title=f"Single registration over HTTP: {opt.rounds} round(s) x {opt.duration:g} s a "
        f"loop, {opt.concurrency} connections, campledger with {opt.workers} worker(s), "
        f"{os.cpu_count()} cores shared"
    )
    columns = ("loop", "server", "requests", "errors", "req/s", "by round", "p50 ms", "p99 ms",
               "CPU ms/req", "cores client/server/projector/pg/rest", "target")  # fmt: skip
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("loop", "server", "target") else "right"
        )
    pooled = {
        (t.name, loop): Pooled([o for o in t.outcomes if o.scenario == loop])
        for t in targets for loop in ("closed loop", "open loop")
    }  # fmt: skip
    ceiling = pooled.get((MINIMAL, "closed loop"))
    for loop in ("closed loop", "open loop"):
        for t in targets:
            p = pooled[(t.name, loop)]
            if not p.rounds:
                continue
            name = loop if loop == "closed loop" else f"open loop at {opt.rate:g}/s"
            table.add_row(
                name, t.name, f"{sum(o.requests for o in p.rounds):,}", p.errors,
                f"{p.rate:,.0f}", " / ".join(f"{o.rate:,.0f}" for o in p.rounds),
                f"{p.ms(0.5):.1f}", f"{p.ms(0.99):.1f}", f"{p.cpu_ms:.2f}", p.cores,
                verdict(t.name, loop, p, ceiling, opt),
            )  # fmt: skip
    baseline = next((Pooled([o]) for server, o in rosters_ if server == MINIMAL), None)
    for server, o in rosters_:
        p = Pooled([o])
        limit = AS_OF_P99_MS if o.scenario.startswith("as-of") else ROSTER_P99_MS
        met = o.error_count == 0 and p.ms(0.99) < limit
        verdict_ = ("met" if met else "NOT met") + f" (p99 < {limit:g} ms"
        if baseline is not None and baseline.ms(0.99):
            verdict_ += f"; {p.ms(0.99) / baseline.ms(0.99):.1f}x the minimal app's p99"
        table.add_row(
            f"{o.scenario} ({o.note}), 1 client", server, f"{o.requests:,}", p.errors,
            f"{p.rate:,.0f}", "", f"{p.ms(0.5):.1f}", f"{p.ms(0.99):.1f}", f"{p.cpu_ms:.2f}",
            p.cores, "baseline" if server == MINIMAL else verdict_ + ")",
        )  # fmt: skip
    console.print(table)
    if ceiling is not None and ceiling.rounds and (CAMPLEDGER, "closed loop") in pooled:
        ratio = pooled[(CAMPLEDGER, "closed loop")].rate / ceiling.rate
        console.print(
            f"campledger / minimal app, closed loop: {ratio:.2f}x (target ≥ {TARGET_SHARE}x)"
        )
    console.print(
        "Same PostgreSQL, a database each; campledger with its projector, commands sent with "
        "an Idempotency-Key and an admin token. CPU ms/req: the server's process, its "
        "projector and its database's backends, over requests served. Open-loop latency "
        "counts from each request's scheduled time."
    )


def verdict(name: str, loop: str, p: Pooled, ceiling: Pooled | None, opt: Options) -> str:
    if name != CAMPLEDGER:
        return "ceiling" if loop == "closed loop" else ""
    if loop == "open loop":
        met = p.errors == "0" and p.ms(0.99) < TARGET_P99_MS and p.rate >= 0.97 * opt.rate
        return ("met" if met else "NOT met") + f" (p99 < {TARGET_P99_MS:g} ms)"
    share = p.rate / ceiling.rate if ceiling and ceiling.rate else 0.0
    met = p.errors == "0" and p.rate >= TARGET_RATE and share >= TARGET_SHARE
    return (
        "met" if met else "NOT met"
    ) + f" (≥ {TARGET_RATE:g}/s, ≥ {TARGET_SHARE}x: {share:.2f}x)"


# --- entry point -----------------------------------------------------------------------


async def drive(
    urls: dict[str, str], token: str, opt: Options
) -> tuple[list[Target], list[tuple[str, Outcome]]]:
    people = People(50_000)
    targets: list[Target] = []
    roster_outcomes: list[tuple[str, Outcome]] = []
    with contextlib.ExitStack() as stack:
        for name in (CAMPLEDGER, MINIMAL):
            start = (
                running_server(urls[name], opt.workers)
                if name == CAMPLEDGER
                else minimal_server(urls[name])
            )
            base, pid = stack.enter_context(start)
            dbname = psycopg.conninfo.conninfo_to_dict(urls[name])["dbname"]
            client = RawClient("127.0.0.1", int(base.rsplit(":", 1)[1]), opt.concurrency)
            headers = {"Authorization": f"Bearer {token}"} if name == CAMPLEDGER else {}
            targets.append(Target(name, base, Cores(pid, str(dbname)), client, headers, urls[name]))
        try:
            if opt.scenarios & {"closed", "open"}:
                await registrations(targets, people, opt)
            if "roster" in opt.scenarios:
                for target in targets:
                    roster_outcomes += await rosters(target, people, opt)
        finally:
            for target in targets:
                await target.client.aclose()
    return targets, roster_outcomes


def main(
    duration: Annotated[float, typer.Option(help="Seconds per loop and round.")] = 20.0,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds; each runs both servers.")] = 2,
    concurrency: Annotated[int, typer.Option(help="Connections, closed loop.")] = 32,
    rate: Annotated[float, typer.Option(help="Offered requests/s, open loop.")] = 150.0,
    roster_people: Annotated[int, typer.Option(help="People at the roster's site.")] = 100_000,
    roster_duration: Annotated[float, typer.Option(help="Seconds per roster loop.")] = 10.0,
    roster_pages: Annotated[int, typer.Option(help="Roster pages read in turn.")] = 300,
    scenarios: Annotated[
        str, typer.Option(help="Comma-separated: closed, open, roster.")
    ] = "closed,open,roster",
    workers: Annotated[int, typer.Option(help="campledger serve --workers.")] = 1,
) -> None:
    # Stopped from outside (timeout, CI): still stop the servers this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    opt = Options(
        duration, rounds, concurrency, rate, roster_people, roster_duration, roster_pages,
        {s.strip() for s in scenarios.split(",") if s.strip()}, workers,
    )  # fmt: skip
    with (
        fresh_database("bench_http_campledger") as ours,
        fresh_database("bench_http_minimal") as theirs,
    ):
        urls = {CAMPLEDGER: as_url(ours), MINIMAL: as_url(theirs)}
        with psycopg.connect(urls[CAMPLEDGER], autocommit=True) as conn:
            token = create_token(conn, name="bench", role="admin")
        targets, roster_outcomes = asyncio.run(drive(urls, token, opt))
    report(targets, roster_outcomes, opt)


if __name__ == "__main__":
    typer.run(main)
