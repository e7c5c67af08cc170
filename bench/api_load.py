"""The HTTP API under load: single registrations, batches of 500, roster pages.

Starts the real server (``campledger serve``, live projector included) as a subprocess on
a free loopback port against a fresh database (the embedded server, or a new database on
CAMPLEDGER_DATABASE_URL's server), creates an admin token, opens a site, then drives it
from this process over a bounded number of keep-alive connections on loopback (the lean
client of ``bench.loadgen``; ``--client httpx`` to compare):

- ``single``: POST /arrivals, closed loop — every connection sends its next request as
  soon as the last one answered; the throughput the server sustains.
- ``rate``: POST /arrivals, open loop at ``--rate`` requests/s. Latency is measured from
  each request's scheduled time, so a server that falls behind shows it in p99 instead of
  silently slowing the client down (coordinated omission).
- ``batch``: POST /arrivals/batch with ``--batch-size`` arrivals each, in events/s, against
  the library baseline of ``bench.batch_registration`` (plain ``Application.save`` of as
  many minimal aggregates) measured in the same run on the same database.
- ``roster``: GET /sites/{code}/roster, cycling over the pages of the registered people.

Client, server, projector and PostgreSQL share the machine: the table shows the cores each
used, so a number can be read against what else was running.

    python -m bench.api_load [--duration 10] [--concurrency 32] [--workers 1] [--rate 300]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
import orjson
import psycopg
import typer
from psycopg.conninfo import conninfo_to_dict
from rich.console import Console
from rich.table import Table

from bench.batch_registration import open_baseline, save_baseline_batch
from bench.duplicates_projection import caseload
from bench.loadgen import (
    Client,
    CpuMeter,
    HttpxClient,
    Outcome,
    RawClient,
    closed_loop,
    measured,
    open_loop,
)
from bench.support import fresh_database, library_env_for, server_env
from campledger.api.services.auth import create_token

# Wide enough for the table when the output is a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 180)

SITE = "RP-LOAD"
PREFIX = "/api/v1"
# Targets from the issue: a single registration at this rate with this p99.
TARGET_RATE = 300.0
TARGET_P99_MS = 50.0

# --- the server ------------------------------------------------------------------------


def as_url(conninfo: str) -> str:
    """A ``postgresql://`` URL for a conninfo string (the server's settings want a URL)."""
    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    user = quote(params.pop("user", "postgres"), safe="")
    password = params.pop("password", "")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = params.pop("host", "")
    dbname = quote(params.pop("dbname", "postgres"), safe="")
    if host.startswith("/"):
        params["host"] = host  # a unix socket directory goes in the query
        host = ""
    port = params.pop("port", "")
    netloc = f"{auth}@{host}" + (f":{port}" if port and host else "")
    if port and not host:
        params["port"] = port
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{netloc}/{dbname}{query}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(database_url: str, workers: int) -> Iterator[tuple[str, int]]:
    """``campledger serve`` in its own process group; yields (base URL, pid)."""
    executable = shutil.which("campledger", path=str(Path(sys.executable).parent))
    command = [executable] if executable else [sys.executable, "-m", "campledger.api.cli.main"]
    port = free_port()
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = server_env(database_url)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process, log)
            yield base, process.pid
        finally:
            _stop(process)


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            console.print(log.read().decode(errors="replace"), markup=False)
            raise RuntimeError(f"campledger serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("campledger serve did not answer /health within 60 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, then the projector's
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group this benchmark started
        process.wait()


# --- the requests ----------------------------------------------------------------------


class People:
    """Arrivals as a reception point sees them, numbered 0, 1, 2…: names spelled as
    registrars write them, households, 2% registered twice (``bench.duplicates_projection``'s
    caseload). Uniform names would make every record a likely duplicate of every other and
    measure the duplicates read model's worst case instead of the API. Past the generated
    caseload the same people come round again under new registration numbers."""

    def __init__(self, size: int, seed: int = 11) -> None:
        self.arrivals = caseload(size, seed).arrivals

    def body(self, i: int) -> dict[str, Any]:
        a = self.arrivals[i % len(self.arrivals)]
        round_ = i // len(self.arrivals)
        suffix = f"-R{round_}" if round_ else ""
        return {
            "registration_number": a.registration_number + suffix,
            "given_name": a.given_name,
            "family_name": a.family_name,
            "sex": a.sex,
            "nationality": a.nationality,
            "date_of_birth": a.date_of_birth.isoformat() if a.date_of_birth else None,
            "estimated_age": a.estimated_age,
            "household_id": a.household_id + suffix if a.household_id else None,
            "specific_needs": ["SM-OT"] if i % 17 == 0 else [],
        }


async def wait_for_projection(client: httpx.AsyncClient, timeout: float = 300) -> None:
    """Until every read model has caught up with the log (the next scenario starts quiet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = (await client.get("/health")).json()
        if health.get("lag") and max(health["lag"].values()) == 0:
            return
        await asyncio.sleep(0.25)
    raise RuntimeError("the projector did not catch up")


async def roster_cursors(
    client: httpx.AsyncClient, headers: dict[str, str], limit: int, pages: int
) -> list[str | None]:
    """The cursors of the first pages, so the load reads many different pages."""
    cursors: list[str | None] = [None]
    while len(cursors) < pages:
        params: dict[str, Any] = {"limit": limit}
        if cursors[-1] is not None:
            params["cursor"] = cursors[-1]
        response = await client.get(
            f"{PREFIX}/sites/{SITE}/roster",
            params=params,
            headers=headers,
        )
        response.raise_for_status()
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        cursors.append(cursor)
    return cursors


@dataclass
class Options:
    duration: float
    concurrency: int
    workers: int
    rate: float
    batch_size: int
    batch_concurrency: int
    baseline_batches: int
    roster_limit: int
    idempotency: bool
    scenarios: set[str]
    people: int
    client: str


async def drive(
    base: str, pid: int, token: str, env: dict[str, str], opt: Options
) -> list[Outcome]:
    meter = CpuMeter(pid)
    people = People(opt.people)
    numbers = itertools.count()
    port = int(base.rsplit(":", 1)[1])
    client: Client = (
        HttpxClient(base, opt.concurrency)
        if opt.client == "httpx"
        else RawClient("127.0.0.1", port, opt.concurrency)
    )
    reader = {"Authorization": f"Bearer {token}"}

    def writer(key: str) -> dict[str, str]:
        headers = {**reader, "Content-Type": "application/json"}
        if opt.idempotency:
            headers["Idempotency-Key"] = key
        return headers

    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as setup:
        site = {"code": SITE, "name": "Load reception", "kind": "reception", "capacity": 10**7}
        (await setup.post(f"{PREFIX}/sites", json=site, headers=reader)).raise_for_status()

        def single(i: int) -> Awaitable[int]:
            body = orjson.dumps({"site_code": SITE, **people.body(i)})
            return client.request("POST", f"{PREFIX}/arrivals", writer(f"single-{i}"), body)

        if opt.scenarios & {"single", "rate"}:
            # Warm up: connections, prepared statements, the server's first-call imports.
            await closed_loop("warm-up", single, numbers, connections=opt.concurrency, duration=1)
        if "single" in opt.scenarios:
            run = closed_loop(
                "single registration",
                single,
                numbers,
                connections=opt.concurrency,
                duration=opt.duration,
            )
            outcomes.append(await measured(meter, run))
            await wait_for_projection(setup)
        if "rate" in opt.scenarios:
            run = open_loop(
                "single registration",
                single,
                numbers,
                rate=opt.rate,
                connections=opt.concurrency,
                duration=opt.duration,
            )
            outcomes.append(await measured(meter, run))
            await wait_for_projection(setup)

        if "batch" in opt.scenarios:
            outcomes.append(library_baseline(env, opt.batch_size, opt.baseline_batches))
            # Far from the single registrations' numbers: the two never claim the same one.
            firsts = itertools.count(100_000_000, opt.batch_size)

            def batch(_: int) -> Awaitable[int]:
                first = next(firsts)
                arrivals = [people.body(first + k) for k in range(opt.batch_size)]
                body = orjson.dumps({"site_code": SITE, "arrivals": arrivals})
                return client.request("POST", f"{PREFIX}/arrivals/batch", writer(f"b{first}"), body)

            await closed_loop("warm-up", batch, numbers, connections=1, duration=0.5)
            run = closed_loop(
                f"batch of {opt.batch_size}",
                batch,
                numbers,
                connections=opt.batch_concurrency,
                duration=opt.duration,
            )
            outcome = await measured(meter, run)
            outcome.events_per_request = opt.batch_size
            outcomes.append(outcome)
            await wait_for_projection(setup)

        if "roster" in opt.scenarios:
            cursors = await roster_cursors(setup, reader, opt.roster_limit, pages=200)
            targets = [
                f"{PREFIX}/sites/{SITE}/roster?"
                + urlencode({"limit": opt.roster_limit, **({"after": c} if c else {})})
                for c in cursors
            ]

            def roster(i: int) -> Awaitable[int]:
                return client.request("GET", targets[i % len(targets)], reader)

            await closed_loop("warm-up", roster, numbers, connections=opt.concurrency, duration=1)
            run = closed_loop(
                f"roster page of {opt.roster_limit}",
                roster,
                numbers,
                connections=opt.concurrency,
                duration=opt.duration,
            )
            outcome = await measured(meter, run)
            outcome.note = f"{len(cursors)} pages"
            outcomes.append(outcome)
    await client.aclose()
    return outcomes


def library_baseline(env: dict[str, str], size: int, batches: int) -> Outcome:
    """bench.batch_registration's baseline, on this run's database, while the API idles."""
    baseline = open_baseline(env)
    try:
        save_baseline_batch(baseline, size)  # warm up
        seconds = [save_baseline_batch(baseline, size) for _ in range(batches)]
    finally:
        baseline.close()
    outcome = Outcome("library baseline", 1, sum(seconds), latencies=seconds)
    outcome.events_per_request = size
    outcome.note = "Application.save, in process"
    return outcome


# --- reporting -------------------------------------------------------------------------


def report(outcomes: list[Outcome], opt: Options, where: str) -> None:
    table = Table(
        title=(
            f"HTTP API load: {opt.workers} worker(s), {opt.concurrency} connections, "
            f"{opt.duration:g} s per scenario, {os.cpu_count()} cores shared"
        )
    )
    columns = (
        "scenario",
        "conns",
        "requests",
        "errors",
        "req/s",
        "events/s",
        "vs baseline",
        "p50 ms",
        "p99 ms",
        "cores client/server/other",
        "target",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("scenario", "target") else "right")
    base = next((o.event_rate for o in outcomes if o.scenario == "library baseline"), None)
    for o in outcomes:
        cpu = "/".join(f"{o.cpu[k]:.2f}" for k in ("client", "server", "other")) if o.cpu else ""
        versus = f"{o.event_rate / base:.2f}x" if base and o.events_per_request > 1 else ""
        table.add_row(
            o.scenario + (f" ({o.note})" if o.note else ""),
            str(o.connections),
            f"{o.requests:,}",
            ", ".join(f"{n}×{s or 'conn'}" for s, n in sorted(o.errors.items())) or "0",
            f"{o.rate:,.0f}",
            f"{o.event_rate:,.0f}",
            versus,
            f"{o.percentile_ms(0.50):.1f}",
            f"{o.percentile_ms(0.99):.1f}",
            cpu,
            verdict(o),
        )
    console.print(table)
    idempotency = "with" if opt.idempotency else "without"
    console.print(
        f"database: {where}; commands sent {idempotency} an Idempotency-Key; the server runs "
        "its live projector, so write scenarios include projecting what they wrote. Cores: "
        "this client / campledger serve with its children (workers, projector) / the rest of "
        "the machine (PostgreSQL, and whatever else runs). "
        f"Targets: single registration ≥ {TARGET_RATE:.0f} req/s (closed loop) and "
        f"p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE:.0f} req/s offered (open loop). "
        "Latency in the open loop counts from the scheduled send time."
    )


def verdict(o: Outcome) -> str:
    if not o.scenario.startswith("single"):
        return ""
    if o.offered is not None:
        met = (
            o.error_count == 0
            and o.percentile_ms(0.99) < TARGET_P99_MS
            and o.offered >= TARGET_RATE
            and o.rate >= 0.97 * o.offered
        )
        return ("met" if met else "NOT met") + f" (p99 < {TARGET_P99_MS:.0f} ms)"
    met = o.error_count == 0 and o.rate >= TARGET_RATE
    return ("met" if met else "NOT met") + f" (≥ {TARGET_RATE:.0f}/s)"


# --- entry point -----------------------------------------------------------------------


def main(
    duration: Annotated[float, typer.Option(help="Seconds per scenario.")] = 10.0,
    concurrency: Annotated[int, typer.Option(help="Client connections.")] = 32,
    workers: Annotated[int, typer.Option(help="campledger serve --workers.")] = 1,
    rate: Annotated[float, typer.Option(help="Offered requests/s, open loop.")] = TARGET_RATE,
    batch_size: Annotated[int, typer.Option(help="Arrivals per batch.")] = 500,
    batch_concurrency: Annotated[int, typer.Option(help="Connections sending batches.")] = 4,
    baseline_batches: Annotated[int, typer.Option(help="Library baseline batches.")] = 20,
    roster_limit: Annotated[int, typer.Option(help="Roster page size.")] = 100,
    idempotency: Annotated[
        bool, typer.Option(help="Send an Idempotency-Key with each command, as devices do.")
    ] = True,
    people: Annotated[int, typer.Option(help="Distinct people generated for the load.")] = 50_000,
    client: Annotated[str, typer.Option(help="Load client: raw (lean HTTP/1.1) or httpx.")] = "raw",
    scenarios: Annotated[
        str, typer.Option(help="Comma-separated: single, rate, batch, roster.")
    ] = "single,rate,batch,roster",
) -> None:
    # Stopped from outside (timeout, CI): still stop the server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    opt = Options(
        duration,
        concurrency,
        workers,
        rate,
        batch_size,
        batch_concurrency,
        baseline_batches,
        roster_limit,
        idempotency,
        {s.strip() for s in scenarios.split(",") if s.strip()},
        people,
        client,
    )
    external = os.environ.get("CAMPLEDGER_DATABASE_URL")
    where = "PostgreSQL at CAMPLEDGER_DATABASE_URL" if external else "embedded PostgreSQL"
    with fresh_database("bench_api_load") as conninfo:
        url = as_url(conninfo)
        with psycopg.connect(url, autocommit=True) as conn:
            token = create_token(conn, name="bench", role="admin")
        with running_server(url, workers) as (base, pid):
            outcomes = asyncio.run(drive(base, pid, token, library_env_for(url), opt))
    report(outcomes, opt, where)


if __name__ == "__main__":
    typer.run(main)
