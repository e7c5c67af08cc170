"""Live projection lag: how long after a registration commits the read models show it.

Registers ``--rate`` people a second for ``--seconds`` seconds (the synthetic Sudanese and
Chadian caseload of ``bench.duplicates_projection``), ``--household`` people per command,
on a fixed schedule (an open loop: a projector that falls behind does not slow the
arrivals down), while the projector follows the log in a process of its own, as
``campledger serve`` runs it. The projector announces the position it reached as each
batch commits (``campledger_projected``); a listener in this process hears it, and each
registration's lag is the time from its command's commit to the first announcement at or
past its position, on one clock.

The same-run baseline is the floor of any live projection: the same load, in a fresh
database, followed by a projector with one read model that applies nothing (it reads the
log, decodes each event, opens its personal data and moves its checkpoint).

Prints, for each run, the registrations achieved against those offered and the lag's
median, p99 and worst; the issue's target is p99 < 1 s at 500 registrations/s for 60 s.

    python -m bench.projection_lag [--rate 500] [--seconds 60] [--household 5]
"""

from __future__ import annotations

import bisect
import multiprocessing
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import typer
from psycopg import Cursor, sql
from rich.console import Console
from rich.table import Table

from bench.duplicates_projection import caseload
from bench.support import fresh_database, library_env_for
from campledger.api.database.keystore import install_key_store, master_key_file
from campledger.api.settings import Settings
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.event_log import PROJECTED_CHANNEL
from campledger.projections.readmodel import Envelope, ReadModel

console = Console(width=120)
TARGET_P99 = 1.0  # seconds, at 500 registrations/s for 60 s
SITE = "RP-LAG"
PRODUCT, FLOOR = "campledger projector, every read model", "floor: a model that applies nothing"


class Nothing(ReadModel):
    """A read model with no table: what a live projection costs before it writes a row."""

    name = "bench_nothing"

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        return None


def _follow(url: str, key_file: Path, floor: bool, ready: Any, stop: Any) -> None:
    """The child process: the product's projector (or the floor's) following the log."""
    install_key_store(key_file)
    projector = Projector(url, models=[Nothing] if floor else None)
    projector.setup()
    halt = threading.Event()
    threading.Thread(target=lambda: (stop.wait(), halt.set()), daemon=True).start()
    ready.set()
    projector.follow(halt, idle_timeout=1.0)
    projector.close()


@dataclass
class Run:
    offered: int = 0
    seconds: float = 0.0
    # (log position of a command's last event, the time its commit returned)
    commits: list[tuple[int, float]] = field(default_factory=list)
    # (position the projector announced, the time it was heard)
    notices: list[tuple[int, float]] = field(default_factory=list)

    def lags(self) -> list[float]:
        positions = [p for p, _ in self.notices]
        lags = []
        for position, committed in self.commits:
            at = bisect.bisect_left(positions, position)
            if at < len(self.notices):
                lags.append(max(self.notices[at][1] - committed, 0.0))
        return lags


def _listen(url: str, run: Run, done: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(PROJECTED_CHANNEL)))
        while not done.is_set():
            for notice in conn.notifies(timeout=0.2):
                if notice.payload.isdigit():
                    run.notices.append((int(notice.payload), time.monotonic()))


def measure(name: str, floor: bool, rate: int, seconds: int, household: int) -> Run:
    run = Run()
    key_file = master_key_file(Settings())
    with fresh_database(name) as url:
        registry = Registry(env=library_env_for(url))
        registry.open_site(code=SITE, name="Lag reception", kind="reception",
                           capacity=10_000_000, actor="bench")  # fmt: skip
        context = multiprocessing.get_context("spawn")
        ready, stop = context.Event(), context.Event()
        child = context.Process(target=_follow, args=(url, key_file, floor, ready, stop))
        child.start()
        if not ready.wait(60):
            raise SystemExit("the projector did not start")
        heard = threading.Event()
        listener = threading.Thread(target=_listen, args=(url, run, heard))
        listener.start()
        time.sleep(0.5)  # the listener is listening before the first commit
        interval = household / rate
        commands = int(rate * seconds / household)
        # Names as a Sudanese and Chadian caseload has them (bench.duplicates_projection):
        # the likely-duplicates model's blocks grow as a real operation's do.
        people = caseload(commands * household, seed=11).arrivals
        start = time.monotonic()
        for n in range(commands):
            due = start + n * interval
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            group = people[n * household : (n + 1) * household]
            result = registry.register_arrivals(site_code=SITE, arrivals=group, actor="bench")
            run.commits.append((result.position, time.monotonic()))
        run.seconds = time.monotonic() - start
        run.offered = commands * household
        last = run.commits[-1][0]
        deadline = time.monotonic() + 120
        while (not run.notices or run.notices[-1][0] < last) and time.monotonic() < deadline:
            time.sleep(0.05)
        heard.set()
        listener.join()
        stop.set()
        child.join(30)
        if child.is_alive():
            child.kill()
        registry.close()
    return run


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def main(
    rate: int = typer.Option(500, help="Registrations offered per second."),
    seconds: int = typer.Option(60, help="How long the load lasts."),
    household: int = typer.Option(5, help="People registered per command."),
) -> None:
    runs = {
        FLOOR: measure("bench_lag_floor", True, rate, seconds, household),
        PRODUCT: measure("bench_lag", False, rate, seconds, household),
    }
    table = Table(title=f"Live projection lag: {rate} registrations/s offered for {seconds} s, "
                        f"{household} per command")  # fmt: skip
    for column in ("projector", "registrations", "achieved/s", "lag p50", "lag p99",
                   "worst", "p99 vs floor"):  # fmt: skip
        table.add_column(column, justify="left" if column == "projector" else "right")
    p99 = {}
    for name, run in runs.items():
        lags = run.lags()
        p99[name] = _quantile(lags, 0.99)
    for name, run in runs.items():
        lags = run.lags()
        table.add_row(
            name, f"{run.offered:,}", f"{run.offered / run.seconds:,.0f}",
            f"{statistics.median(lags) * 1000:,.0f} ms", f"{p99[name] * 1000:,.0f} ms",
            f"{max(lags) * 1000:,.0f} ms", f"{p99[name] / p99[FLOOR]:.1f}x",
        )  # fmt: skip
    console.print(table)
    met = p99[PRODUCT] < TARGET_P99
    console.print(
        f"p99 lag with every read model: {p99[PRODUCT] * 1000:,.0f} ms (target < "
        f"{TARGET_P99 * 1000:,.0f} ms): " + ("[green]met[/green]" if met else "[red]not met[/red]")
    )
    console.print(
        "lag: from a command's commit returning to the projector's announcement of a "
        "position at or past it; the projector runs in a process of its own, as `campledger "
        "serve` runs it, on the same machine as this writer and PostgreSQL."
    )


if __name__ == "__main__":
    typer.run(main)
