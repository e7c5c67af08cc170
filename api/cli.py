"""The ``campledger`` command line."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import typer
from pydantic import ValidationError
from rich.console import Console

from api.database import describe_url
from api.settings import Settings

app = typer.Typer(help="campledger: who arrived where, when, and where they went next.")
console = Console()


def load_settings() -> Settings:
    """Settings, or a readable exit when the environment holds a bad value."""
    try:
        return Settings()
    except ValidationError as e:
        for error in e.errors():
            field = ".".join(str(p) for p in error["loc"])
            console.print(f"[red]invalid setting CAMPLEDGER_{field.upper()}:[/] {error['msg']}")
        raise typer.Exit(code=2) from None


@app.command()
def version() -> None:
    """Print the installed campledger version."""
    try:
        console.print(package_version("campledger"))
    except PackageNotFoundError:
        console.print("unknown (not installed)")


@app.command("db-url")
def db_url() -> None:
    """Say where the database is (password masked); starts nothing."""
    settings = load_settings()
    if settings.database_url:
        console.print(describe_url(settings.database_url), markup=False, highlight=False)
    else:
        pgdata = (settings.data_dir / "pgdata").expanduser().resolve()
        console.print(f"embedded PostgreSQL in {pgdata}", markup=False, highlight=False)


# Registered last: these modules read ``load_settings`` from here when they run.
from api.commands import audit, demo, exports, imports, projections, serve, token  # noqa: E402

for command_module in (serve, token, demo, projections, audit, imports, exports):
    command_module.register(app)
