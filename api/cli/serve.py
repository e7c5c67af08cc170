"""``campledger serve``: the HTTP API, with the live projector in a child process."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import psycopg
import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from rich.text import Text

from campledger.api.cli.shared import load_settings
from campledger.api.composition import Backend, open_backend, projector_on, settle_start_up
from campledger.api.database.embedded import StopRequested
from campledger.api.database.keystore import install_key_store
from campledger.api.http.logs import LogFormat, configure_logging
from campledger.api.services.accounts import AccountPolicy
from campledger.api.services.auth import create_token, ensure_tokens_table
from campledger.api.services.demo import load_demo
from campledger.api.services.demo_accounts import (
    DEMO_ACCOUNTS_FILE,
    issue_demo_accounts,
    write_demo_accounts,
)

# Not imported from api/http/metrics.py: importing it fixes the mode its metrics run in.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Everything serve prints is a notice (where it listens, the demo's accounts, why it
# stopped), never a result a script reads: stderr, beside the logs.
console = Console(stderr=True)
log = logging.getLogger("campledger.projector")

DEMO_TOKEN_FILE = "demo-token"


notices_log = logging.getLogger("campledger.serve")


class Notices:
    """What serve tells the operator: printed for a terminal, or, with JSON logs, written as
    log lines, so that stderr stays one JSON object a line for a log shipper. (The demo
    accounts' table stays a table: its passwords have no place in a log.)"""

    def __init__(self, as_log: bool) -> None:
        self.as_log = as_log

    def __call__(self, text: str) -> None:
        if self.as_log:
            notices_log.info("%s", Text.from_markup(text).plain)
        else:
            console.print(text)


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes.")] = 1,
    no_projector: Annotated[
        bool, typer.Option("--no-projector", help="Run `campledger project` separately.")
    ] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo operation first (once).")
    ] = False,
    log_level: Annotated[
        LogLevel | None,
        typer.Option(
            "--log-level",
            case_sensitive=False,
            help="Default: CAMPLEDGER_LOG_LEVEL (INFO). DEBUG adds the access log.",
        ),
    ] = None,
) -> None:
    """Serve the API. The projector runs beside it unless --no-projector is given.

    Refused with exit code 78, and nothing started, when a CAMPLEDGER_* variable
    is not a setting (misspelled?) or has an invalid value; stderr names it.
    """
    settings = load_settings()
    level = log_level.value if log_level else settings.log_level
    configure_logging(level, settings.log_format)
    # uvicorn's access log prints paths and query strings, where a registration number or a
    # name may be: ours (api/http/metrics.py, at DEBUG) prints the route template instead.
    uvicorn_level, access_log = level.lower(), False
    # The HTTP parser and event loop (CAMPLEDGER_HTTP, CAMPLEDGER_LOOP): with --workers,
    # uvicorn's supervisor hands the same to every worker it starts.
    server_stack: dict[str, Any] = {
        "timeout_keep_alive": settings.keep_alive_seconds,
        "http": settings.http,
        "loop": settings.loop,
    }
    say = Notices(as_log=settings.log_format == "json")
    try:
        with multiprocess_metrics(), open_backend(settings) as backend:
            # Here, not at the top: the HTTP application (FastAPI and every route) takes
            # longer to import than the rest of the command line together, and only this
            # command needs it; and its metrics must see the folder set up just above.
            from campledger.api.http.app import create_app

            console_url = f"http://{_browsable(host)}:{port}/"
            if demo:
                _load_demo(backend, say)
                _demo_token(backend, say)
                _demo_accounts(backend, console_url, say)
            # Workers started by uvicorn build their own app from the environment; they must
            # reach the database this process opened (the embedded server, if no URL was set).
            os.environ["CAMPLEDGER_DATABASE_URL"] = backend.database_url
            # And log as this process does (--log-level overrides the setting).
            os.environ["CAMPLEDGER_LOG_LEVEL"] = level
            say(
                f"campledger API on http://{host}:{port}/api/v1 — interactive docs at "
                f"http://{host}:{port}/docs; create a token with "
                "`campledger token create --role admin --name me`"
            )
            say(
                f"campledger console: point a browser at [bold]{console_url}[/] and sign in "
                + (
                    "with a demo account above"
                    if demo
                    else "with an account (`campledger user create --name … --role …`)"
                )
            )
            with (
                (
                    nullcontext()
                    if no_projector
                    else projector_process(
                        backend.conninfo,
                        level,
                        settings.log_format,
                        backend.master_key_file,
                        settings.rebuild_processes,
                    )
                ),
                hangup_stops_uvicorn(),
            ):
                if workers == 1:
                    app = create_app(backend, run_projector=False)
                    uvicorn.run(
                        app, host=host, port=port, log_level=uvicorn_level, log_config=None,
                        access_log=access_log, **server_stack,
                    )  # fmt: skip
                else:
                    uvicorn.run(
                        "campledger.api.http.server:app_from_environment", factory=True,
                        host=host, port=port, workers=workers, log_level=uvicorn_level,
                        log_config=None, access_log=access_log, **server_stack,
                    )  # fmt: skip
    except StopRequested as stop:
        # Being told to stop is how a server's day ends: exit 0, as after Ctrl-C, so that
        # systemd records a clean stop rather than a failure.
        say(f"campledger stopped on {stop.name}; the embedded database was stopped")


@contextmanager
def multiprocess_metrics() -> Iterator[Path]:
    """A fresh folder for Prometheus' multiprocess mode, named in the environment that the
    workers and the projector inherit, and removed when serving ends.

    The projector runs in a process of its own, and so does each worker with --workers:
    each writes its figures to files there, and a scrape, whichever worker answers it,
    adds them up (api/http/metrics.py). Fresh at every start: files an earlier run left
    would be counted again.
    """
    folder = Path(tempfile.mkdtemp(prefix="campledger-metrics-"))
    previous = os.environ.get(MULTIPROCESS_DIR)
    os.environ[MULTIPROCESS_DIR] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR, None)
        else:
            os.environ[MULTIPROCESS_DIR] = previous
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def hangup_stops_uvicorn() -> Iterator[None]:
    """SIGHUP stops the API as SIGTERM does: drain requests, then unwind.

    uvicorn shuts down gracefully on SIGTERM and SIGINT only; a bare SIGHUP would raise in
    the middle of its event loop. Re-raising it as SIGTERM reaches uvicorn's handler while
    it serves, and ``StopRequested`` otherwise. With --workers above 1 uvicorn's supervisor
    takes SIGHUP for itself and restarts the workers: the process, and its database, stay up.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def as_sigterm(_signum: int, _frame: FrameType | None) -> None:
        signal.raise_signal(signal.SIGTERM)

    previous = signal.signal(signal.SIGHUP, as_sigterm)
    try:
        yield
    finally:
        # Unless a stop already set SIGHUP aside, so that it cannot cut the cleanup short.
        if signal.getsignal(signal.SIGHUP) is as_sigterm:
            signal.signal(signal.SIGHUP, previous)


@contextmanager
def projector_process(
    conninfo: str,
    log_level: str,
    log_format: LogFormat,
    master_key_file: Path,
    rebuild_processes: int,
) -> Iterator[None]:
    """The live projector beside the API, in a child process.

    In a thread of the API's process it would hold the API's GIL while it applies events:
    requests and projection would share one core (bench/api_load.py). As a process it
    follows the log on another core. It stops with the API; if the API dies without
    stopping it (SIGKILL), it sees that its parent is gone and stops by itself.
    """
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(
        target=_follow_log,
        args=(
            conninfo,
            log_level,
            log_format,
            master_key_file,
            rebuild_processes,
            os.getpid(),
            ready,
        ),
        name="projector",
    )
    child.start()
    # Serve only once the projector follows the log, as the thread it replaces did within
    # milliseconds: a client that reads right after writing should not find it still starting.
    if not ready.wait(timeout=60):
        log.warning("the projector has not started yet; the API starts without waiting")
    try:
        yield
    finally:
        if child.pid is not None and child.is_alive():
            os.kill(child.pid, signal.SIGTERM)  # it finishes the batch in flight
        child.join(timeout=15)
        if child.is_alive():
            child.kill()
            child.join()


def _follow_log(
    conninfo: str,
    log_level: str,
    log_format: LogFormat,
    master_key_file: Path,
    rebuild_processes: int,
    parent: int,
    ready: Any,
) -> None:
    """The child's work: follow the log until told to stop or orphaned; retry a lost
    database with backoff, since a batch in flight rolls back with its checkpoint."""
    configure_logging(log_level, log_format)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())

    def watch_parent() -> None:
        while os.getppid() == parent and not stop.wait(1.0):
            pass
        stop.set()

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    # Here: the multiprocess folder serve set up is in this process's environment by now.
    from campledger.api.http.metrics import observe_projector

    install_key_store(master_key_file)
    projector = projector_on(
        conninfo, master_key_file, rebuild_processes, observer=observe_projector
    )
    with suppress(psycopg.OperationalError):  # follow() below retries
        projector.setup()
    settle_start_up()
    ready.set()
    projector.follow(stop, idle_timeout=1.0)
    projector.close()


def _load_demo(backend: Backend, say: Notices) -> None:
    with console.status("loading the demo operation…") as spinner:
        summary = load_demo(backend.registry, on_step=lambda step: spinner.update(step))
    if summary.loaded:
        say(f"demo operation loaded: {summary.persons:,} persons")
    else:
        say("demo operation already loaded")


def _demo_token(backend: Backend, say: Notices) -> None:
    """A fresh admin token for trying the demo, kept in the data directory (owner-only)
    so the README's curl session can read it; real operations create named tokens."""
    name = f"demo-admin-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    with psycopg.connect(backend.conninfo, autocommit=True) as conn:
        ensure_tokens_table(conn)
        token = create_token(conn, name=name, role="admin", sites=())
    path = backend.settings.data_dir.expanduser() / DEMO_TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(token + "\n")
    say(f"demo admin token [bold]{name}[/] written to {path}")


def _demo_accounts(backend: Backend, console_url: str, say: Notices) -> None:
    """One console account per role, with passwords shown here and kept beside the demo
    token: demo only, so that a new user can sign in and look around."""
    with psycopg.connect(backend.conninfo, autocommit=True) as conn:
        accounts = issue_demo_accounts(
            conn, now=datetime.now(UTC), policy=AccountPolicy.from_settings(backend.settings)
        )
    path = backend.settings.data_dir.expanduser() / DEMO_ACCOUNTS_FILE
    write_demo_accounts(path, accounts, console_url)
    table = Table(title="demo accounts for the console: DEMO ONLY, new passwords at every start")
    for column in ("role", "name", "sites", "password"):
        table.add_column(column)
    for account in accounts:
        table.add_row(
            account.role.value, account.name, ", ".join(account.sites) or "all", account.password
        )
    console.print(table)
    say(f"the demo accounts and passwords are also in {path}")


def _browsable(host: str) -> str:
    """Where a browser on this machine reaches a server listening on ``host``."""
    return "localhost" if host in ("0.0.0.0", "::", "") else host


def register(app: typer.Typer) -> None:
    app.command()(serve)
