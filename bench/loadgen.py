"""Load generation for HTTP benchmarks: a lean keep-alive client, closed and open loops,
latency percentiles and the CPU each party used.

The client speaks just enough HTTP/1.1 over asyncio streams for a benchmark (fixed
requests, Content-Length or chunked responses, keep-alive). httpx costs one to two
milliseconds of CPU per request: on a machine whose two cores also run the server, its
projector and PostgreSQL, that client would take the CPU the server is being measured
with. ``HttpxClient`` is there to show the difference (``--client httpx``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

# A request number in, an HTTP status out (0: the connection failed).
Send = Callable[[int], Awaitable[int]]


class Client(Protocol):
    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> int: ...

    async def aclose(self) -> None: ...


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes) -> int:
        reused = self.writer is not None
        try:
            response = await self._send(head, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
            # The server closed the idle keep-alive connection (uvicorn does after 5 s) before
            # this request reached it: reconnect and send it again, as HTTP clients do.
            await self.close()
            response = await self._send(head, body)
        return await self._read_rest(response)

    async def _send(self, head: bytes, body: bytes) -> bytes:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(head + body)
        return await self.reader.readuntil(b"\r\n\r\n")

    async def _read_rest(self, response: bytes) -> int:
        assert self.reader is not None
        status = int(response[9:12])
        headers = response.lower()
        if b"transfer-encoding: chunked" in headers:
            await self._skip_chunks()
        else:
            start = headers.find(b"content-length:")
            if start >= 0:
                end = headers.index(b"\r\n", start)
                await self.reader.readexactly(int(headers[start + 15 : end]))
        if b"connection: close" in headers:
            await self.close()
        return status

    async def _skip_chunks(self) -> None:
        assert self.reader is not None
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await self.reader.readexactly(size + 2)
            if size == 0:
                return

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class RawClient:
    """At most ``connections`` keep-alive connections, each carrying one request at a time."""

    def __init__(self, host: str, port: int, connections: int) -> None:
        self.host = host
        self.idle: asyncio.Queue[_Connection] = asyncio.Queue()
        self.all = [_Connection(host, port) for _ in range(connections)]
        for connection in self.all:
            self.idle.put_nowait(connection)

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> int:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        connection = await self.idle.get()
        try:
            return await connection.request(head, body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await connection.close()
            return 0
        finally:
            self.idle.put_nowait(connection)

    async def aclose(self) -> None:
        for connection in self.all:
            await connection.close()


class HttpxClient:
    def __init__(self, base_url: str, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60)

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> int:
        try:
            response = await self.client.request(method, target, headers=headers, content=body)
        except httpx.HTTPError:
            return 0
        return response.status_code

    async def aclose(self) -> None:
        await self.client.aclose()


# --- loops -----------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    connections: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    events_per_request: int = 1
    offered: float | None = None  # requests/s, for an open loop
    cpu: dict[str, float] = field(default_factory=dict)  # cores used, by party
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
    status = await send(i)
    outcome.latencies.append(time.perf_counter() - started)
    if not 200 <= status < 300:
        outcome.errors[status] = outcome.errors.get(status, 0) + 1


async def closed_loop(
    scenario: str, send: Send, numbers: Iterator[int], *, connections: int, duration: float
) -> Outcome:
    """Each connection sends its next request as soon as the last one is answered."""
    outcome = Outcome(scenario, connections)
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < deadline:
            await _timed(send, next(numbers), outcome, time.perf_counter())

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    outcome.seconds = time.perf_counter() - start
    return outcome


async def open_loop(
    scenario: str,
    send: Send,
    numbers: Iterator[int],
    *,
    rate: float,
    connections: int,
    duration: float,
) -> Outcome:
    """Requests scheduled at a fixed rate, at most ``connections`` in flight. Latency counts
    from the scheduled time, waiting for a free connection included, so a server that falls
    behind shows it in p99 instead of slowing the client down (coordinated omission)."""
    outcome = Outcome(scenario, connections, offered=rate, note=f"offered {rate:,.0f}/s")
    slots = asyncio.Semaphore(connections)
    total = max(1, int(rate * duration))

    async def one(due: float) -> None:
        async with slots:
            await _timed(send, next(numbers), outcome, due)

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


# --- CPU -------------------------------------------------------------------------------


class CpuMeter:
    """Core-seconds used by this process, by the server's process tree, and by the whole
    machine (the rest: PostgreSQL, and anything else running), read from /proc. Samples
    are empty where there is no /proc."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> dict[str, float]:
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal…: busy is all but idle, iowait.
            busy = (sum(fields) - fields[3] - fields[4]) / self.tick
            server = sum(self._cpu(pid) for pid in self._tree(self.server_pid))
        except (OSError, ValueError, IndexError):
            return {}
        return {"client": time.process_time(), "server": server, "machine": busy}

    def _cpu(self, pid: int) -> float:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(stat[11]) + int(stat[12])) / self.tick  # utime, stime

    def _tree(self, pid: int) -> list[int]:
        found = [pid]
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                for child in children.read_text().split():
                    found.extend(self._tree(int(child)))
        return found


async def measured(meter: CpuMeter, run: Awaitable[Outcome]) -> Outcome:
    """Run a loop and record the cores each party used meanwhile."""
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
