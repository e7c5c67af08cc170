"""``campledger project``, ``rebuild`` and ``status``: running and inspecting the read side."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from campledger.api.cli.shared import AsJson, ExitCode, fail, load_settings
from campledger.api.composition import open_backend
from campledger.api.http.logs import configure_logging
from campledger.projections import quarantine
from campledger.projections.engine import (
    Projector,
    RebuildSummary,
)
from campledger.projections.readmodel import ReadModel
from campledger.projections.status import read_status

log = logging.getLogger("campledger.projector")
console = Console()


class LoggingProjector(Projector):
    """A projector that logs each batch: counts and positions only, never event contents
    (events carry names and dates of birth)."""

    def process_batch(self, models: Sequence[ReadModel] | None = None) -> int:
        started = time.perf_counter()
        count = super().process_batch(models)
        if count:
            position = min(self.checkpoints(models).values(), default=0)
            log.info(
                "applied %d events up to position %d in %.1f ms",
                count,
                position,
                (time.perf_counter() - started) * 1000,
            )
        return count


def project() -> None:
    """Run the live projector: catch up, then follow the log until Ctrl-C, SIGTERM or SIGHUP."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping after the current batch", signal.Signals(signum).name)
        stop.set()

    # SIGHUP too: a closed terminal must not kill the projector before the embedded
    # database it started is stopped.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, request_stop)
    with open_backend(settings) as app:
        projector = app.projector(LoggingProjector)
        names = ", ".join(m.name for m in projector.models) or "none"
        log.info("projector started; read models: %s", names)
        # A short idle timeout bounds how long a stop request waits for the next wake-up;
        # follow() outlives database restarts, resuming from the checkpoints.
        projector.follow(stop, idle_timeout=1.0)
        projector.close()
        log.info("projector stopped")


class RateColumn(ProgressColumn):
    """Events per second over the task's recent history."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} events/s" if speed else "– events/s", style="cyan")


def rebuild(
    names: Annotated[
        list[str] | None, typer.Argument(help="Read models to rebuild (default: all).")
    ] = None,
) -> None:
    """Rebuild read models from position 0 into fresh schemas and swap them in at the end."""
    settings = load_settings()
    with open_backend(settings) as app:
        projector = app.projector()
        refuse_unknown(projector, names)
        with rebuild_progress() as advance, projector:
            summary = projector.rebuild(names or None, progress=advance)
        console.print(summary_table(summary))


def refuse_unknown(projector: Projector, names: Sequence[str] | None) -> None:
    known = [m.name for m in projector.models]
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        fail(
            f"unknown read models: {', '.join(unknown)}; known: {', '.join(known) or 'none'}",
            ExitCode.NOT_FOUND,
        )


@contextmanager
def rebuild_progress() -> Iterator[Callable[[int, int], None]]:
    progress = Progress(
        TextColumn("[bold]rebuild"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        # Progress is not a result: stdout keeps only the summary, for scripts to read.
        console=Console(stderr=True),
    )
    with progress:
        task = progress.add_task("rebuild", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def summary_table(summary: RebuildSummary) -> Table:
    table = Table(title=f"rebuilt up to position {summary.head:,}")
    for column in ("models", "events", "seconds", "events/s", "rows"):
        table.add_column(column, justify="left" if column == "models" else "right")
    table.add_row(
        ", ".join(summary.models) or "none",
        f"{summary.events:,}",
        f"{summary.seconds:.2f}",
        f"{summary.events_per_second:,.0f}",
        f"{sum(summary.rows.values()):,}",
    )
    for name in summary.models:
        table.add_row(f"  {name}", "", "", "", f"{summary.rows.get(name, 0):,}")
    return table


def status(
    as_json: AsJson = False,
) -> None:
    """Show the log's head position and each read model's checkpoint and lag."""
    settings = load_settings()
    with open_backend(settings) as app, app.projector() as projector:
        report = read_status(projector.conn, projector.models)
    if as_json:
        typer.echo(json.dumps(report))
        return
    table = Table(title=f"event log head: position {report['head']:,}")
    for column in ("read model", "checkpoint", "lag", "set aside"):
        table.add_column(column, justify="left" if column == "read model" else "right")
    for model in report["models"]:
        if not model["set_up"]:
            table.add_row(model["name"], "not set up", "–", "–")
            continue
        lag = model["lag"]
        style = "green" if lag == 0 else "yellow"
        positions = model["quarantined"]
        aside = f"[red]{len(positions):,} (first at {positions[0]:,})[/]" if positions else "0"
        table.add_row(model["name"], f"{model['checkpoint']:,}", f"[{style}]{lag:,}[/]", aside)
    if not report["models"]:
        table.add_row("(no read models in the catalog)", "", "", "")
    console.print(table)
    running = "running" if report["projector_running"] else "[yellow]not running[/]"
    console.print(f"live projector: {running}")
    if report["status"] == "degraded":
        console.print(
            "[red]degraded:[/] events were set aside; `campledger quarantine list` shows "
            "them, `campledger quarantine retry` tries them again after a fix"
        )


quarantine_app = typer.Typer(help="Events a read model could not apply: list, retry.")


@quarantine_app.command("list")
def quarantine_list(
    as_json: AsJson = False,
) -> None:
    """Events set aside by a read model, with the error (never the event's contents)."""
    with open_backend(load_settings()) as app, app.projector() as projector:
        found = quarantine.quarantined(projector.conn, projector.models)
    if as_json:
        typer.echo(json.dumps([q.as_dict() for q in found]))
        return
    table = Table(title=f"{len(found):,} events set aside")
    for column in ("position", "read model", "event", "error", "set aside at"):
        table.add_column(column)
    for q in found:
        event = q.topic.rpartition(":")[2]
        table.add_row(f"{q.position:,}", q.model, event, q.error, f"{q.quarantined_at:%F %T}")
    console.print(table)


@quarantine_app.command("retry")
def quarantine_retry(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Read models to retry (default: those with events set aside)."),
    ] = None,
) -> None:
    """After a fix, rebuild the read models that set events aside; whatever still fails is
    set aside again (read models apply events in log order: none can be slipped in late)."""
    with open_backend(load_settings()) as app, app.projector() as projector:
        refuse_unknown(projector, names)
        with rebuild_progress() as advance:
            summary = projector.retry_quarantined(names or None, progress=advance)
        left = quarantine.quarantined(projector.conn, projector.models)
    if not summary.models:
        console.print("no events are set aside: nothing to retry")
        return
    console.print(summary_table(summary))
    if left:
        fail(f"{len(left):,} events are still set aside", ExitCode.FAILED)
    console.print("[green]every event set aside has now been applied[/]")


def register(app: typer.Typer) -> None:
    app.command()(project)
    app.command()(rebuild)
    app.command()(status)
    app.add_typer(quarantine_app, name="quarantine")
