"""CPU seconds a benchmark run costs, counted across processes (Linux ``/proc``).

Wall-clock throughput on a shared machine says as much about the neighbours as about the
code. The CPU a run consumes does not: this process (less the sampler's own thread), its
descendants (worker processes, an embedded PostgreSQL) and the database server's backends
serving the run's database, sampled a few times a second.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds in user and kernel mode) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _serves(pid: int, database: str) -> bool:
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # A backend's title: "postgres: <user> <database> <client> <state>".
    return title.startswith(b"postgres: ") and f" {database} ".encode() in title


class CpuMeter:
    """``with CpuMeter(dbname) as meter: ...`` then ``meter.seconds``."""

    def __init__(self, database: str, interval: float = 0.2) -> None:
        self.database = database
        self.interval = interval
        self.me = os.getpid()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.sampler_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (found := _stat(int(entry))) is not None:
                parents[int(entry)], cpu[int(entry)] = found
        for pid, seconds in cpu.items():
            if pid != self.me and (self._descends(pid, parents) or _serves(pid, self.database)):
                self.first.setdefault(pid, seconds)
                self.last[pid] = seconds

    def _descends(self, pid: int, parents: dict[int, int]) -> bool:
        for _ in range(32):
            pid = parents.get(pid, 0)
            if pid == self.me:
                return True
            if pid <= 1:
                return False
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
        self._sample()
        self.sampler_seconds = time.thread_time()

    def __enter__(self) -> CpuMeter:
        self._own = time.process_time()
        self._sample()
        self.initial = set(self.first)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.own = time.process_time() - self._own - self.sampler_seconds

    @property
    def seconds(self) -> float:
        """CPU seconds of the whole run: this process and everything it kept busy."""
        # A process first seen after the start was started during the run: all its CPU
        # counts; for one already there, what it spent meanwhile.
        others = sum(
            last - (self.first[pid] if pid in self.initial else 0.0)
            for pid, last in self.last.items()
        )
        return self.own + others
