"""The server's HTTP parser and event loop: uvicorn's standard stack (httptools + uvloop,
what ``uvicorn[standard]`` installs) against the plain one (h11 + asyncio), the baseline.

Prepares one operation (a site and ``--people`` registrations, projected), then starts the
real server (``campledger serve``) on it once per stack and round, chosen with
``CAMPLEDGER_HTTP`` and ``CAMPLEDGER_LOOP``, and drives the same load against each over
keep-alive connections on loopback (the lean client of ``bench.loadgen``):

- reads, ``--concurrency`` clients: roster pages of 100, and single person reads;
- writes: POST /arrivals/batch of 500 (4 clients), and single registrations
  (``--concurrency`` clients).

The two stacks alternate over ``--rounds`` rounds (A B, B A, A B…), so that whatever else
the machine does meanwhile falls on both. The server runs without its projector during
the rounds (``--no-projector``): the reads then find the same read models in every round,
and the projector's catching up after a write cannot land on one stack's reads and not
the other's. The table pools the rounds; the ratio is the standard stack's over the
baseline's, the figure to compare across machines.

    python -m bench.server_stack [--duration 5] [--rounds 3] [--concurrency 32]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated
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
    as_url,
    free_port,
    roster_cursors,
    wait_for_projection,
)
from bench.loadgen import CpuMeter, Outcome, RawClient, closed_loop, measured
from bench.support import fresh_database, server_env
from campledger.api.services.auth import create_token

console = Console(width=None if sys.stdout.isatty() else 180)

BASELINE = "h11 + asyncio"
STANDARD = "httptools + uvloop"
STACKS: dict[str, dict[str, str]] = {
    BASELINE: {"CAMPLEDGER_HTTP": "h11", "CAMPLEDGER_LOOP": "asyncio"},
    STANDARD: {"CAMPLEDGER_HTTP": "httptools", "CAMPLEDGER_LOOP": "uvloop"},
}
SCENARIOS = ("roster page of 100", "person read", "batch of 500", "single registration")
LOADS = {"reads": SCENARIOS[:2], "writes": SCENARIOS[2:]}
# Within this, a ratio is the machine's noise, not the stack (the rule: 5 %).
MARGIN = 0.05
BATCH = 500


@contextlib.contextmanager
def running_server(url: str, stack: dict[str, str], projector: bool) -> Iterator[tuple[str, int]]:
    """``campledger serve`` with the given stack, in its own process group."""
    executable = shutil.which("campledger", path=str(Path(sys.executable).parent))
    command = [executable] if executable else [sys.executable, "-m", "campledger.api.cli.main"]
    port = free_port()
    command += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    command += [] if projector else ["--no-projector"]
    # The rate limit off: one token sends all the load, faster than any device would.
    env = {**server_env(url), **stack, "CAMPLEDGER_RATE_LIMIT_PER_SECOND": "0"}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base, process, log)
            yield base, process.pid
        except Exception:
            log.seek(0)  # what the server said, to see why
            console.print(log.read().decode(errors="replace")[-4000:], markup=False)
            raise
        finally:
            _stop(process)


def _wait_until_ready(base: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """Until /readyz answers 200: /health says 503 while no projector runs, as in the rounds."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            console.print(log.read().decode(errors="replace"), markup=False)
            raise RuntimeError(f"campledger serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("campledger serve did not answer /readyz within 60 s")


def loaded_natives(pid: int) -> str:
    """Which of uvloop and httptools the server process has loaded (its memory maps): the
    proof that the setting reached uvicorn."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return "?"
    return " + ".join(name for name in ("httptools", "uvloop") if f"/{name}/" in maps) or "none"


@dataclass
class Operation:
    """What the rounds read: roster page targets and person ids."""

    rosters: list[str]
    persons: list[str]


async def prepare(url: str, token: str, people: People, size: int) -> Operation:
    """A site, ``size`` registrations in batches, projected; with the default stack."""
    headers = {"Authorization": f"Bearer {token}"}
    with running_server(url, {}, projector=True) as (base, _pid):
        async with httpx.AsyncClient(base_url=base, timeout=120, headers=headers) as client:
            site = {"code": SITE, "name": "Stack reception", "kind": "reception"}
            (
                await client.post(f"{PREFIX}/sites", json={**site, "capacity": 10**7})
            ).raise_for_status()
            persons: list[str] = []
            for first in range(0, size, BATCH):
                arrivals = [people.body(i) for i in range(first, min(size, first + BATCH))]
                answer = await client.post(
                    f"{PREFIX}/arrivals/batch", json={"site_code": SITE, "arrivals": arrivals}
                )
                if answer.is_error:
                    raise RuntimeError(f"preparing: {answer.status_code} {answer.text[:500]}")
                persons += answer.json()["person_ids"]
            await wait_for_projection(client)
            cursors = await roster_cursors(client, headers, 100, pages=100)
    rosters = [
        f"{PREFIX}/sites/{SITE}/roster?" + urlencode({"limit": 100, **({"cursor": c} if c else {})})
        for c in cursors
    ]
    return Operation(rosters, [f"{PREFIX}/persons/{p}" for p in persons])


@dataclass
class Options:
    duration: float
    rounds: int
    concurrency: int
    people: int


@dataclass
class Pooled:
    """One scenario on one stack, over every round."""

    rounds: list[Outcome] = field(default_factory=list)

    @property
    def rate(self) -> float:
        seconds = sum(o.seconds for o in self.rounds)
        return sum(o.requests for o in self.rounds) / seconds if seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        every = Outcome("pooled", 0, latencies=[x for o in self.rounds for x in o.latencies])
        return every.percentile_ms(q)

    @property
    def errors(self) -> int:
        return sum(o.error_count for o in self.rounds)

    @property
    def server_cpu_ms(self) -> float:
        """Server core-milliseconds a request (the server's process tree)."""
        used = sum(o.cpu.get("server", 0.0) * o.seconds for o in self.rounds)
        requests = sum(o.requests for o in self.rounds)
        return 1000 * used / requests if requests else float("nan")


async def one_round(
    base: str, pid: int, token: str, operation: Operation, people: People,
    numbers: Iterator[int], opt: Options,
) -> list[Outcome]:  # fmt: skip
    """Every scenario once against a running server."""
    meter = CpuMeter(pid)
    client = RawClient("127.0.0.1", int(base.rsplit(":", 1)[1]), opt.concurrency)
    reader = {"Authorization": f"Bearer {token}"}

    def writer(key: str) -> dict[str, str]:
        return {**reader, "Content-Type": "application/json", "Idempotency-Key": key}

    def roster(i: int) -> Awaitable[int]:
        return client.request("GET", operation.rosters[i % len(operation.rosters)], reader)

    def person(i: int) -> Awaitable[int]:
        return client.request("GET", operation.persons[i % len(operation.persons)], reader)

    def batch(i: int) -> Awaitable[int]:
        # Far from the single registrations' numbers: the two never claim the same one.
        first = 100_000_000 + BATCH * i
        arrivals = [people.body(first + k) for k in range(BATCH)]
        body = orjson.dumps({"site_code": SITE, "arrivals": arrivals})
        return client.request("POST", f"{PREFIX}/arrivals/batch", writer(f"b{first}"), body)

    def single(i: int) -> Awaitable[int]:
        body = orjson.dumps({"site_code": SITE, **people.body(i)})
        return client.request("POST", f"{PREFIX}/arrivals", writer(f"s{i}"), body)

    plan = (
        (roster, opt.concurrency),
        (person, opt.concurrency),
        (batch, 4),
        (single, opt.concurrency),
    )
    outcomes = []
    try:
        for name, (send, connections) in zip(SCENARIOS, plan, strict=True):
            # Warm up: connections, prepared statements, the first call's imports.
            await closed_loop("warm-up", send, numbers, connections=connections, duration=0.5)
            run = closed_loop(name, send, numbers, connections=connections, duration=opt.duration)
            outcomes.append(await measured(meter, run))
    finally:
        await client.aclose()
    return outcomes


def run(url: str, token: str, opt: Options) -> tuple[dict[tuple[str, str], Pooled], dict[str, str]]:
    people = People(opt.people)
    operation = asyncio.run(prepare(url, token, people, opt.people))
    # One counter for every round: a registration number is never sent twice.
    numbers = itertools.count(opt.people)
    pooled: dict[tuple[str, str], Pooled] = {}
    loaded: dict[str, str] = {}
    for round_ in range(opt.rounds):
        order = [BASELINE, STANDARD] if round_ % 2 == 0 else [STANDARD, BASELINE]
        for stack in order:
            console.print(f"round {round_ + 1}/{opt.rounds}: {stack}")
            with running_server(url, STACKS[stack], projector=False) as (base, pid):
                loaded[stack] = loaded_natives(pid)
                outcomes = asyncio.run(one_round(base, pid, token, operation, people, numbers, opt))
            for outcome in outcomes:
                pooled.setdefault((outcome.scenario, stack), Pooled()).rounds.append(outcome)
    return pooled, loaded


# --- reporting -------------------------------------------------------------------------


def report(pooled: dict[tuple[str, str], Pooled], loaded: dict[str, str], opt: Options) -> None:
    table = Table(
        title=(
            f"Server stack: {opt.rounds} rounds × {opt.duration:g} s per scenario, "
            f"{opt.concurrency} connections (batches 4), {os.cpu_count()} cores shared"
        )
    )
    for column in ("scenario", "stack", "requests", "errors", "req/s", "req/s by round",
                   "p50 ms", "p95 ms", "server CPU ms/req"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("scenario", "stack") else "right")
    for scenario in SCENARIOS:
        base, standard = pooled[(scenario, BASELINE)], pooled[(scenario, STANDARD)]
        for stack, p in ((BASELINE, base), (STANDARD, standard)):
            table.add_row(
                scenario, f"{stack} (loaded: {loaded.get(stack, '?')})",
                f"{sum(o.requests for o in p.rounds):,}", str(p.errors), f"{p.rate:,.0f}",
                " / ".join(f"{o.rate:,.0f}" for o in p.rounds),
                f"{p.percentile_ms(0.50):.1f}", f"{p.percentile_ms(0.95):.1f}",
                f"{p.server_cpu_ms:.2f}",
            )  # fmt: skip
        table.add_row(
            "", "ratio standard / baseline", "", "", f"{standard.rate / base.rate:.3f}x", "",
            f"{standard.percentile_ms(0.5) / base.percentile_ms(0.5):.3f}x",
            f"{standard.percentile_ms(0.95) / base.percentile_ms(0.95):.3f}x",
            f"{standard.server_cpu_ms / base.server_cpu_ms:.3f}x", end_section=True,
        )  # fmt: skip
    console.print(table)
    console.print(verdict(pooled))


def verdict(pooled: dict[tuple[str, str], Pooled]) -> str:
    """The issue's rule: the standard stack pays if, on either load, it gives ≥ 5 % more
    throughput or a p95 lower by ≥ 5 % on some scenario, and is worse by more than 5 % on
    none."""
    better, worse = [], []
    for load, scenarios in LOADS.items():
        for scenario in scenarios:
            base, standard = pooled[(scenario, BASELINE)], pooled[(scenario, STANDARD)]
            rate = standard.rate / base.rate
            p95 = standard.percentile_ms(0.95) / base.percentile_ms(0.95)
            if rate >= 1 + MARGIN or p95 <= 1 - MARGIN:
                better.append(f"{load}: {scenario} (req/s {rate:.2f}x, p95 {p95:.2f}x)")
            if rate < 1 - MARGIN or p95 > 1 + MARGIN:
                worse.append(f"{load}: {scenario} (req/s {rate:.2f}x, p95 {p95:.2f}x)")
    pays = bool(better) and not worse
    return (
        f"verdict: the standard stack {'PAYS' if pays else 'does NOT pay'} "
        f"(±{MARGIN:.0%} is noise). Better: {'; '.join(better) or 'none'}. "
        f"Worse: {'; '.join(worse) or 'none'}."
    )


def main(
    duration: Annotated[float, typer.Option(help="Seconds per scenario and round.")] = 5.0,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds; each runs both stacks.")] = 3,
    concurrency: Annotated[int, typer.Option(help="Client connections.")] = 32,
    people: Annotated[int, typer.Option(help="Registrations prepared before the rounds.")] = 20_000,
) -> None:
    # Stopped from outside (timeout, CI): still stop the server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    opt = Options(duration, rounds, concurrency, people)
    with fresh_database("bench_server_stack") as conninfo:
        url = as_url(conninfo)
        with psycopg.connect(url, autocommit=True) as conn:
            token = create_token(conn, name="bench", role="admin")
        pooled, loaded = run(url, token, opt)
    report(pooled, loaded, opt)
    where = "CAMPLEDGER_DATABASE_URL" if os.environ.get("CAMPLEDGER_DATABASE_URL") else "embedded"
    console.print(
        f"database: {where} PostgreSQL; server without its projector during the rounds; "
        "stacks alternate A B, B A… Ratios under 1 are better for p50, p95 and CPU."
    )


if __name__ == "__main__":
    typer.run(main)
