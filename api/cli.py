"""The ``campledger`` command line: one Typer app, each group of commands from its module.

The command modules import nothing from here: each adds its commands through
``register(app)``, called below in the order ``campledger --help`` lists them.
"""

from __future__ import annotations

import typer

from api.commands import about, audit, demo, exports, imports, projections, serve, token

app = typer.Typer(help="campledger: who arrived where, when, and where they went next.")

for command_module in (about, serve, token, demo, projections, audit, imports, exports):
    command_module.register(app)
