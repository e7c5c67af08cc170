"""The ``campledger`` command line: one Typer app, each group of commands from its module.

The command modules import nothing from here: each adds its commands through
``register(app)``, called below in the order ``campledger --help`` lists them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from campledger.api.cli import (
    about,
    audit,
    demo,
    exports,
    import_arrivals,
    projections,
    serve,
    tokens,
    users,
)
from campledger.api.cli.shared import CONFIGURATION_REFUSED

EXIT_CODES = (
    "Exit codes: 0 done; 1 the command ran and found a problem (see its help); 2 a usage "
    f"error, or a command's own refusal; {CONFIGURATION_REFUSED} the configuration was "
    "refused and nothing was started: an unknown CAMPLEDGER_* variable (misspelled?) or an "
    "invalid value, named on stderr without its value."
)

app = typer.Typer(epilog=EXIT_CODES)


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
):
    command_module.register(app)


if __name__ == "__main__":
    app()
