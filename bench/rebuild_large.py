"""A full rebuild of a large log: the issue's 1M-event row of the rebuild targets.

``bench.projection_rebuild`` compares rebuilds with their baselines on logs of tens of
thousands of events, several times over. This builds one encrypted log of ``--events``
(default 1,000,000) the same way, then once each, in the same run: reads and decodes it
(the floor), rebuilds the roster alone, every read model but the duplicates, and every
read model, the last two with ``--processes`` processes. Prints events/s, the multiple
of the floor and the rows each read model holds. About three quarters of an hour on 2
cores at the default size.

    python -m bench.rebuild_large [--events 1000000] [--processes 2]
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from bench.projection_rebuild import (
    TARGET_ALL,
    TARGET_ROSTER,
    TARGET_TIMES_FLOOR,
    build,
    read_and_decode,
    rebuild,
)
from bench.support import fresh_database
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.duplicates import Duplicates


def main(
    events: int = typer.Option(1_000_000, help="Events in the log."),
    processes: int = typer.Option(2, min=1, max=8, help="Processes filling the full rebuild."),
) -> None:
    console = Console(width=120)
    with fresh_database("bench_rebuild_large") as url:
        head = build(url, Registry, events, "encrypted")
        floor = read_and_decode(url)
        roster = rebuild(url, ["roster"])
        # The duplicates model grows faster than the log (docs/duplicates.md): without it,
        # what the other nine cost.
        others = rebuild(
            url, [m.name for m in READ_MODELS if m is not Duplicates], processes=processes
        )
        full = rebuild(url, None, processes=processes)
    table = Table(title=f"Rebuilding a log of {head:,} events, once each")
    for column in ("run", "events", "seconds", "events/s", "x the floor", "target"):
        table.add_column(column, justify="left" if column in ("run", "target") else "right")
    for run, summary, target in (
        ("read and decode (floor)", floor, ""),
        ("roster alone", roster, f">= {TARGET_ROSTER:,} events/s"),
        (f"all but duplicates, {processes} processes", others, ""),
        (f"all {len(full.models)}, {processes} processes", full,
         f">= {TARGET_ALL:,} events/s, <= {TARGET_TIMES_FLOOR}x the floor"),
    ):  # fmt: skip
        rate = summary.events_per_second
        table.add_row(
            run, f"{summary.events:,}", f"{summary.seconds:.1f}", f"{rate:,.0f}",
            f"{floor.events_per_second / rate:.1f}x", target,
        )  # fmt: skip
    console.print(table)
    console.print("rows: " + ", ".join(f"{k} {v:,}" for k, v in full.rows.items()))


if __name__ == "__main__":
    typer.run(main)
