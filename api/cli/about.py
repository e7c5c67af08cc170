"""``campledger version`` and ``db-url``: what is installed and where its database is."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import typer
from rich.console import Console

from campledger.api.cli.shared import load_settings
from campledger.api.database import describe_url

console = Console()


def installed_version() -> str:
    """The version of the installed campledger package."""
    try:
        return package_version("campledger")
    except PackageNotFoundError:
        return "unknown (not installed)"


def version() -> None:
    """Print the installed campledger version (also `campledger --version`)."""
    console.print(installed_version(), markup=False, highlight=False)


def db_url() -> None:
    """Say where the database is (password masked); starts nothing."""
    settings = load_settings()
    if settings.database_url:
        console.print(describe_url(settings.database_url), markup=False, highlight=False)
    else:
        pgdata = (settings.data_dir / "pgdata").expanduser().resolve()
        console.print(f"embedded PostgreSQL in {pgdata}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(version)
    app.command("db-url")(db_url)
