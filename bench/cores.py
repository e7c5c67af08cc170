"""Core-seconds by party while a load runs against a server, read from Linux's /proc.

On a machine of two cores shared by the client, the server, its projector and PostgreSQL,
a rate says little without who used the cores meanwhile: this client, the server's
processes (with its workers), campledger's projector, the PostgreSQL backends of its database,
and the rest of the machine (other databases, WAL, whatever else runs); and a loop's
outcomes pooled over rounds, with the CPU a request cost.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Outcome

PARTIES = ("client", "server", "projector", "postgres")


class Cores:
    """Core-seconds so far of each party of one server, and of the whole machine."""

    def __init__(self, pid: int, dbname: str) -> None:
        self.pid, self.dbname = pid, dbname
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> dict[str, float]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        projector, workers = self._children()
        return {
            "client": time.process_time(),
            "server": self._cpu(self.pid) + sum(self._cpu(p) for p in workers),
            "projector": sum(self._cpu(p) for p in projector),
            "postgres": sum(self._cpu(p) for p in self._backends()),
            # user nice system idle iowait…: busy is all but idle and iowait.
            "machine": (sum(fields) - fields[3] - fields[4]) / self.tick,
        }

    def _children(self) -> tuple[list[int], list[int]]:
        """(campledger's projector, uvicorn's workers): the server starts its projector
        first, then uvicorn starts the workers (with --workers); multiprocessing's
        resource tracker counts as neither."""
        started = []
        for pid in _children(self.pid):
            with contextlib.suppress(OSError, IndexError):
                if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    started.append((int(stat[19]), pid))  # starttime
        pids = [pid for _, pid in sorted(started)]
        return pids[:1], pids[1:]

    def _cpu(self, pid: int) -> float:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(stat[11]) + int(stat[12])) / self.tick

    def _backends(self) -> list[int]:
        marker = f" {self.dbname} ".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if marker in (entry / "cmdline").read_bytes():
                        found.append(int(entry.name))
        return found


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                found += [int(child), *_children(int(child))]
    return found


async def metered(
    cores: Cores, run: Awaitable[Outcome], then: Callable[[], Awaitable[None]] | None = None
) -> Outcome:
    """Run a loop, then ``then`` (campledger's projector catching up with what the loop
    wrote); the cores each party used over both, the catching up counted in what the
    loop's requests cost. ``cpu["window"]``: the seconds measured."""
    before, wall = cores.sample(), time.perf_counter()
    outcome = await run
    if then is not None:
        await then()
    after, wall = cores.sample(), time.perf_counter() - wall
    used = {k: (after[k] - before[k]) / wall for k in before}
    outcome.cpu = {k: used[k] for k in PARTIES}
    outcome.cpu["rest"] = max(0.0, used["machine"] - sum(used[k] for k in PARTIES))
    outcome.cpu["window"] = wall
    return outcome


@dataclass
class Pooled:
    """One loop on one server, over every round."""

    rounds: list[Outcome]

    @property
    def rate(self) -> float:
        seconds = sum(o.seconds for o in self.rounds)
        return sum(o.requests for o in self.rounds) / seconds if seconds else 0.0

    def ms(self, q: float) -> float:
        every = Outcome("pooled", 0, latencies=[x for o in self.rounds for x in o.latencies])
        return every.percentile_ms(q)

    @property
    def errors(self) -> str:
        found: dict[int, int] = {}
        for o in self.rounds:
            for status, n in o.errors.items():
                found[status] = found.get(status, 0) + n
        return ", ".join(f"{n}x{s or 'conn'}" for s, n in sorted(found.items())) or "0"

    @property
    def cores(self) -> str:
        """Cores each party used, on average over the measured windows."""
        seconds = sum(o.cpu.get("window", 0) for o in self.rounds)
        parties = (*PARTIES, "rest")
        used = [sum(o.cpu.get(k, 0) * o.cpu.get("window", 0) for o in self.rounds) for k in parties]
        return "/".join(f"{u / seconds:.2f}" for u in used) if seconds else ""

    @property
    def cpu_ms(self) -> float:
        """Core-milliseconds a request: the server, its projector (catching up included)
        and its database's backends."""
        used = sum(
            sum(o.cpu.get(k, 0) for k in ("server", "projector", "postgres")) * o.cpu["window"]
            for o in self.rounds
            if "window" in o.cpu
        )
        requests = sum(o.requests for o in self.rounds)
        return 1000 * used / requests if requests else float("nan")
