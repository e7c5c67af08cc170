"""``campledger gazetteer load FILE``: a country's admin areas, from its COD-AB table, so
that sites opened there name real ones (``api/services/gazetteer.py``)."""

from __future__ import annotations

import json
from typing import Annotated

import psycopg
import typer

from campledger.api.cli.shared import ExitCode, fail, load_settings
from campledger.api.composition import open_backend
from campledger.api.services import gazetteer

gazetteer_app = typer.Typer(help="The admin areas sites' p-codes are checked against.")


@gazetteer_app.command("load")
def load(
    file: Annotated[
        typer.FileText,
        typer.Argument(
            help="The COD-AB admin boundaries table as CSV (columns ADM1_PCODE, ADM1_EN, "
            "ADM2_PCODE, ADM2_EN); - reads it from stdin."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Load a COD gazetteer: it replaces the areas of the countries the file covers.

    Every line is checked before anything is stored. Exits 0 when loaded, 65 when a line
    cannot be loaded (named by line and column; nothing is stored), 75 when the database
    failed.
    """
    lines = file.read().splitlines()
    settings = load_settings()
    with open_backend(settings) as backend:
        try:
            with psycopg.connect(backend.conninfo, autocommit=True) as conn:
                counts = gazetteer.load(conn, lines)
        except gazetteer.BadGazetteerLine as error:
            fail(f"cannot load the gazetteer: {error}; nothing was stored", ExitCode.DATA_ERROR)
        except psycopg.Error as error:
            fail(
                f"the gazetteer was not loaded ({type(error).__name__}): nothing was stored",
                ExitCode.TEMPORARY_FAILURE,
            )
    if as_json:
        print(json.dumps({"areas": counts}, indent=2))
        return
    for country, count in sorted(counts.items()):
        typer.echo(f"{country}: {count:,} admin areas loaded")


def register(app: typer.Typer) -> None:
    app.add_typer(gazetteer_app, name="gazetteer")
