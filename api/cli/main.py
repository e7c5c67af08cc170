"""The ``campledger`` command line: one Typer app, each group of commands from its module.

The command modules import nothing from here: each adds its commands through
``register(app)``, called below in the order ``campledger --help`` lists them.
"""

from __future__ import annotations

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

app = typer.Typer(help="campledger: who arrived where, when, and where they went next.")

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
