"""The HTTP API under load: single registrations, batches of 500, roster pages.

Starts the real server (``campledger serve``, live projector included) as a subprocess on
a free loopback port against a fresh database (the embedded server, or a new database on
CAMPLEDGER_DATABASE_URL's server), creates an admin token, opens a site, then drives it
from this process with asyncio httpx clients over a bounded number of connections:

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
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
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

from api.auth import create_token
from bench.batch_registration import open_baseline, save_baseline_batch
from bench.support import fresh_database, library_env_for

# Wide enough for the table when the output is a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 180)

SITE = "RP-LOAD"
PREFIX = "/api/v1"
# Targets from the issue: a single registration at this rate with this p99.
TARGET_RATE = 300.0
TARGET_P99_MS = 50.0

Send = Callable[[int], Awaitable[httpx.Response]]


# --- measuring -------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    connections: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    events_per_request: int = 1
    offered: float | None = None  # requests/s, for an open loop
    cpu: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def event_rate(self) -> float:
        return self.rate * self.events_per_request

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _timed(send: Send, i: int, outcome: Outcome, started: float) -> None:
    try:
        response = await send(i)
        status = response.status_code
    except httpx.HTTPError:
        status = 0
    outcome.latencies.append(time.perf_counter() - started)
    if status >= 300 or status == 0:
        outcome.errors[status] = outcome.errors.get(status, 0) + 1


async def closed_loop(
    scenario: str, send: Send, counter: Iterator[int], *, connections: int, duration: float
) -> Outcome:
    """Each connection sends its next request when the last one is answered."""
    outcome = Outcome(scenario, connections, 0.0)
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < deadline:
            await _timed(send, next(counter), outcome, time.perf_counter())

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    outcome.seconds = time.perf_counter() - start
    return outcome


async def open_loop(
    scenario: str,
    send: Send,
    counter: Iterator[int],
    *,
    rate: float,
    connections: int,
    duration: float,
) -> Outcome:
    """Requests scheduled at a fixed rate, at most ``connections`` in flight; latency counts
    from the scheduled time, including any wait for a free connection."""
    outcome = Outcome(scenario, connections, 0.0, offered=rate, note=f"offered {rate:,.0f}/s")
    slots = asyncio.Semaphore(connections)
    total = max(1, int(rate * duration))

    async def one(due: float) -> None:
        async with slots:
            await _timed(send, next(counter), outcome, due)

    start = time.perf_counter()
    tasks = []
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    outcome.seconds = time.perf_counter() - start
    return outcome


class CpuMeter:
    """Core-seconds used by this process, the server's process tree and the whole machine
    (the rest is mostly PostgreSQL), read from /proc; empty where there is no /proc."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def sample(self) -> dict[str, float]:
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal...: busy is all but idle+iowait.
            busy = (sum(fields) - fields[3] - fields[4]) / self.tick
            server = sum(self._proc_cpu(pid) for pid in self._tree(self.server_pid))
        except (OSError, ValueError, IndexError):
            return {}
        return {"client": time.process_time(), "server": server, "machine": busy}

    def _proc_cpu(self, pid: int) -> float:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(stat[11]) + int(stat[12])) / self.tick  # utime, stime

    def _tree(self, pid: int) -> list[int]:
        found = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                for child in task.read_text().split():
                    found.extend(self._tree(int(child)))
        return found


async def measured(meter: CpuMeter, run: Awaitable[Outcome]) -> Outcome:
    before, wall = meter.sample(), time.perf_counter()
    outcome = await run
    after, wall = meter.sample(), time.perf_counter() - wall
    if before and after:
        used = {k: (after[k] - before[k]) / wall for k in before}
        outcome.cpu = {
            "client": used["client"],
            "server": used["server"],
            "other": max(0.0, used["machine"] - used["client"] - used["server"]),
        }
    return outcome


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
    command = [executable] if executable else [sys.executable, "-m", "api.cli"]
    port = free_port()
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = {**os.environ, "CAMPLEDGER_DATABASE_URL": database_url}
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


def arrival(i: int) -> dict[str, Any]:
    return {
        "registration_number": f"L-{i:08d}",
        "given_name": "Amina",
        "family_name": "Haroun",
        "sex": "female" if i % 2 else "male",
        "nationality": "SDN",
        "date_of_birth": f"1990-01-{1 + i % 28:02d}",
        "household_id": f"H-{i // 5:07d}",
        "relationship": "child" if i % 5 else "focal_point",
        "biometric_reference": f"BIO-{i:08d}",
        "specific_needs": ["wounded"] if i % 17 == 0 else [],
    }


def json_headers(token: str, key: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


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
    client: httpx.AsyncClient, token: str, limit: int, pages: int
) -> list[str | None]:
    """The ``after`` cursors of the first pages, so the load reads many different pages."""
    cursors: list[str | None] = [None]
    while len(cursors) < pages:
        params: dict[str, Any] = {"limit": limit}
        if cursors[-1] is not None:
            params["after"] = cursors[-1]
        response = await client.get(
            f"{PREFIX}/sites/{SITE}/roster",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
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


async def drive(
    base: str, pid: int, token: str, env: dict[str, str], opt: Options
) -> list[Outcome]:
    meter = CpuMeter(pid)
    numbers = itertools.count()
    limits = httpx.Limits(
        max_connections=opt.concurrency, max_keepalive_connections=opt.concurrency
    )
    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        opened = await client.post(
            f"{PREFIX}/sites",
            content=orjson.dumps(
                {
                    "code": SITE,
                    "name": "Load reception",
                    "kind": "reception",
                    "capacity": 10_000_000,
                }
            ),
            headers=json_headers(token, None),
        )
        opened.raise_for_status()

        def single(i: int) -> Awaitable[httpx.Response]:
            body = orjson.dumps({"site_code": SITE, **arrival(i)})
            key = f"single-{i}" if opt.idempotency else None
            return client.post(f"{PREFIX}/arrivals", content=body, headers=json_headers(token, key))

        if opt.scenarios & {"single", "rate"}:
            # Warm up: connections, prepared statements, the server's first-call imports.
            await closed_loop("warm-up", single, numbers, connections=opt.concurrency, duration=1)
        if "single" in opt.scenarios:
            outcomes.append(
                await measured(
                    meter,
                    closed_loop(
                        "single registration",
                        single,
                        numbers,
                        connections=opt.concurrency,
                        duration=opt.duration,
                    ),
                )
            )
            await wait_for_projection(client)
        if "rate" in opt.scenarios:
            outcomes.append(
                await measured(
                    meter,
                    open_loop(
                        "single registration",
                        single,
                        numbers,
                        rate=opt.rate,
                        connections=opt.concurrency,
                        duration=opt.duration,
                    ),
                )
            )
            await wait_for_projection(client)

        if "batch" in opt.scenarios:
            outcomes.extend(library_baseline(env, opt.batch_size, opt.baseline_batches))
            batch_numbers = itertools.count(10_000_000, opt.batch_size)

            def batch(_: int) -> Awaitable[httpx.Response]:
                first = next(batch_numbers)
                body = orjson.dumps(
                    {
                        "site_code": SITE,
                        "arrivals": [arrival(first + k) for k in range(opt.batch_size)],
                    }
                )
                key = f"batch-{first}" if opt.idempotency else None
                return client.post(
                    f"{PREFIX}/arrivals/batch", content=body, headers=json_headers(token, key)
                )

            await closed_loop("warm-up", batch, numbers, connections=1, duration=0.5)
            outcome = await measured(
                meter,
                closed_loop(
                    f"batch of {opt.batch_size}",
                    batch,
                    numbers,
                    connections=opt.batch_concurrency,
                    duration=opt.duration,
                ),
            )
            outcome.events_per_request = opt.batch_size
            outcomes.append(outcome)
            await wait_for_projection(client)

        if "roster" in opt.scenarios:
            cursors = await roster_cursors(client, token, opt.roster_limit, pages=200)
            read_headers = {"Authorization": f"Bearer {token}"}

            def roster(i: int) -> Awaitable[httpx.Response]:
                cursor = cursors[i % len(cursors)]
                params: dict[str, Any] = {"limit": opt.roster_limit}
                if cursor is not None:
                    params["after"] = cursor
                return client.get(
                    f"{PREFIX}/sites/{SITE}/roster", params=params, headers=read_headers
                )

            await closed_loop("warm-up", roster, numbers, connections=opt.concurrency, duration=1)
            outcome = await measured(
                meter,
                closed_loop(
                    f"roster page of {opt.roster_limit}",
                    roster,
                    numbers,
                    connections=opt.concurrency,
                    duration=opt.duration,
                ),
            )
            outcome.note = f"{len(cursors)} pages"
            outcomes.append(outcome)
    return outcomes


def library_baseline(env: dict[str, str], size: int, batches: int) -> list[Outcome]:
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
    return [outcome]


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
        "its live projector, so write scenarios include projecting what they wrote. "
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
    scenarios: Annotated[
        str, typer.Option(help="Comma-separated: single, rate, batch, roster.")
    ] = "single,rate,batch,roster",
) -> None:
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
