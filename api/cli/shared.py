"""What every command needs first: the settings, or a readable exit when one is bad."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console

from campledger.api.settings import Settings

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
