"""``campledger demo``: load the demo operation, project it, show the sites."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from campledger.api.cli.shared import load_settings
from campledger.api.composition import open_backend
from campledger.api.services.demo import SITES, load_demo
from campledger.projections.occupancy import all_sites_occupancy

# The sites table is the result (stdout); what happens on the way there is a notice.
console = Console()
notices = Console(stderr=True)


def demo(
    trucks: Annotated[int, typer.Option(min=1, max=200, help="Truckloads, one a day.")] = 4,
    truck_size: Annotated[int, typer.Option(min=10, max=5_000, help="People per truck.")] = 500,
    seed: Annotated[int, typer.Option(help="Same seed, same people.")] = 2024,
) -> None:
    """Load a demo operation (reception, screening, two camps, a hospital) and show head counts."""
    settings = load_settings()
    with open_backend(settings) as app:
        with notices.status("loading the demo operation…") as spinner:
            summary = load_demo(
                app.registry,
                trucks=trucks,
                truck_size=truck_size,
                seed=seed,
                on_step=lambda step: spinner.update(step),
            )
        if summary.loaded:
            notices.print(
                f"loaded {summary.persons:,} persons in {summary.seconds:.1f} s "
                f"(log at position {summary.events_position:,}); "
                f"{summary.held_released} held then released, {summary.still_held} still held, "
                f"{summary.unaccounted_for} unaccounted for"
            )
        else:
            notices.print("the demo operation is already loaded: nothing new written")
        with app.projector() as projector:
            progress = Progress(
                TextColumn("[bold]projecting"), BarColumn(), MofNCompleteColumn(), console=notices
            )
            with progress:
                task = progress.add_task("project", total=None)
                projector.catch_up(
                    lambda done, total: progress.update(task, completed=done, total=total)
                )
            names = {m.name for m in projector.models}
            console.print(sites_table(projector.conn, "occupancy" in names))


def sites_table(conn: psycopg.Connection[Any], has_occupancy: bool) -> Table:
    table = Table(title="sites")
    for column in ("site", "name", "kind"):
        table.add_column(column)
    for column in ("head count", "capacity", "use", "female", "male", "under 18"):
        table.add_column(column, justify="right")
    if not has_occupancy:
        # The occupancy read model is not in the catalog yet: show what the demo opened.
        for site in SITES:
            table.add_row(site.code, site.name, site.kind, "–", f"{site.capacity:,}")
        table.caption = "head counts appear once the occupancy read model is in the catalog"
        return table
    for row in all_sites_occupancy(conn):
        bands = row["by_age_band"]
        under_18 = sum(bands.get(b, 0) for b in ("0-4", "5-11", "12-17"))
        rate = row["occupancy_rate"]
        table.add_row(
            row["site_code"],
            row["name"],
            row["kind"],
            f"{row['total']:,}",
            f"{row['capacity']:,}",
            "–" if rate is None else f"{rate:.0%}",
            f"{row['by_sex'].get('female', 0):,}",
            f"{row['by_sex'].get('male', 0):,}",
            f"{under_18:,}",
        )
    return table


def register(app: typer.Typer) -> None:
    app.command()(demo)
