"""What every command needs first: the settings, or a readable exit when one is bad."""

from __future__ import annotations

from typing import Final, NoReturn

import typer
from pydantic import ValidationError

from campledger.api.settings import Settings, UnknownSettingError

# sysexits.h's EX_CONFIG: apart from Typer's 2 for a usage error, so that a supervisor (or
# a person) can tell "the configuration is wrong" from "the command line is wrong".
CONFIGURATION_REFUSED: Final = 78


def load_settings() -> Settings:
    """Settings, or an exit with one line on stderr for each unknown ``CAMPLEDGER_*``
    variable or bad value, before anything starts. Values are never shown: a database
    URL carries a password."""
    try:
        return Settings()
    except UnknownSettingError as e:
        problems = list(e.problems)
    except ValidationError as e:
        problems = [
            f"invalid setting CAMPLEDGER_{'.'.join(str(p) for p in error['loc']).upper()}: "
            f"{error['msg']}"
            for error in e.errors()
        ]
    for problem in problems:
        typer.echo(f"campledger: {problem}", err=True)
    raise typer.Exit(code=CONFIGURATION_REFUSED)


def fail(message: str, code: int) -> NoReturn:
    """Say why on stderr and exit: stdout carries results only, so that a script reading
    them never reads a refusal as one. Plain text, never markup: the message may quote a
    name as it was typed, brackets and all."""
    typer.echo(f"campledger: {message}", err=True)
    raise typer.Exit(code=code)
