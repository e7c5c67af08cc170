"""The ``campledger`` command line: one Typer app, each group of commands from its module.

The command modules import nothing from here: each adds its commands through
``register(app)``, called below in the order ``campledger --help`` lists them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from campledger.api.cli import (
    about,
    audit,
    demo,
    erasure,
    exports,
    gazetteer,
    import_arrivals,
    keys,
    projections,
    retention,
    serve,
    subject_access,
    tokens,
    users,
)
from campledger.api.cli.shared import ExitCode
from campledger.api.database.embedded import EmbeddedVersionMismatch
from campledger.domain.persistence.personal_data import KeyStoreError

# Click joins an epilog's lines into one paragraph; a "\b" line keeps the next ones apart.
EXIT_CODES = "Exit codes, the same for every command:\n\b\n" + "\n".join(
    f"{code.value:>3}  {code.meaning}" for code in ExitCode
)


class Commands(TyperGroup):
    """Every command, with the refusals they may all meet when they open the database: the
    embedded data folder was written by another PostgreSQL major, or the master key is
    missing or does not open the key store (nothing was started)."""

    def invoke(self, ctx: Any) -> Any:  # a click.Context
        try:
            return super().invoke(ctx)
        except (EmbeddedVersionMismatch, KeyStoreError) as e:
            typer.echo(f"campledger: {e}", err=True)
            raise typer.Exit(code=ExitCode.CONFIG) from None


app = typer.Typer(epilog=EXIT_CODES, cls=Commands)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(about.installed_version())
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            # Before any command, and without reading the settings: it answers even when
            # the configuration would be refused.
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """campledger: who arrived where, when, and where they went next."""


for command_module in (
    about,
    serve,
    tokens,
    users,
    demo,
    projections,
    audit,
    import_arrivals,
    exports,
    gazetteer,
    keys,
    erasure,
    retention,
    subject_access,
):
    command_module.register(app)


if __name__ == "__main__":
    app()
