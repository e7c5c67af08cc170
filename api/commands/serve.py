"""``campledger serve``: the HTTP API, with the live projector in the same process."""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from api.composition import Campledger, campledger
from projections.engine import Projector, projector_thread

console = Console()

DEMO_TOKEN_FILE = "demo-token"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
            help="Default: CAMPLEDGER_LOG_LEVEL (INFO). DEBUG adds uvicorn's access log.",
        ),
    ] = None,
) -> None:
    """Serve the API. The projector runs here too unless --no-projector is given."""
    from api.app import create_app
    from api.cli import load_settings

    settings = load_settings()
    level = log_level.value if log_level else settings.log_level
    logging.basicConfig(level=level, format=LOG_FORMAT)
    # The access log names paths (ids, never personal data) and is only for debugging.
    uvicorn_level, access_log = level.lower(), level == LogLevel.DEBUG
    with campledger(settings) as camp:
        if demo:
            _load_demo(camp)
            _demo_token(camp)
        # Workers started by uvicorn build their own app from the environment; they must
        # reach the database this process opened (the embedded server, if no URL was set).
        os.environ["CAMPLEDGER_DATABASE_URL"] = camp.database_url
        console.print(
            f"campledger API on http://{host}:{port}/api/v1 — interactive docs at "
            f"http://{host}:{port}/docs; create a token with "
            "`campledger token create --role admin --name me`"
        )
        projector = None if no_projector else Projector(camp.database_url)
        with projector_thread(projector) if projector else nullcontext():
            if workers == 1:
                app = create_app(camp, run_projector=False)
                uvicorn.run(
                    app, host=host, port=port, log_level=uvicorn_level, access_log=access_log
                )
            else:
                uvicorn.run(
                    "api.server:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level=uvicorn_level, access_log=access_log,
                )  # fmt: skip


def _load_demo(camp: Campledger) -> None:
    from api.demo import load_demo

    with console.status("loading the demo operation…") as spinner:
        summary = load_demo(camp.registry, on_step=lambda step: spinner.update(step))
    if summary.loaded:
        console.print(f"demo operation loaded: {summary.persons:,} persons")
    else:
        console.print("demo operation already loaded")


def _demo_token(camp: Campledger) -> None:
    """A fresh admin token for trying the demo, kept in the data directory (owner-only)
    so the README's curl session can read it; real operations create named tokens."""
    import psycopg

    from api.auth import create_token, ensure_tokens_table

    name = f"demo-admin-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    with psycopg.connect(camp.database_url, autocommit=True) as conn:
        ensure_tokens_table(conn)
        token = create_token(conn, name=name, role="admin", sites=())
    path = camp.settings.data_dir.expanduser() / DEMO_TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(token + "\n")
    console.print(f"demo admin token [bold]{name}[/] written to {path}")


def register(app: typer.Typer) -> None:
    app.command()(serve)
