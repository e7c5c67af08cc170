"""``campledger retention apply [--dry-run]``: erase the personal data the operation's
retention policy no longer keeps (docs/data-protection.md#retention)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC
from typing import Annotated

import psycopg
import typer

from campledger.api.cli.shared import ErasedBy, ExitCode, ResultAsJson, fail, load_settings
from campledger.api.composition import open_backend
from campledger.api.services import retention
from campledger.api.services.retention import RetentionPolicy, Run

retention_app = typer.Typer(
    help="The retention policy: personal data erased some days after a person departed."
)

POLICY_OFF = (
    "no retention policy is set: set CAMPLEDGER_RETENTION_DEPARTED_DAYS to the days a "
    "departed person's personal data is kept (docs/data-protection.md#retention)"
)


@retention_app.command("apply")
def apply(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List what the policy would erase; write nothing."),
    ] = False,
    actor: ErasedBy = None,
    as_json: ResultAsJson = False,
) -> None:
    """Erase the personal data of every person who departed more than
    CAMPLEDGER_RETENTION_DEPARTED_DAYS days ago, and of the duplicate records merged into
    theirs: each erasure is an event with the reason `retention`, as `campledger erase`
    records one. Lists each record (id, registration number, when the person departed,
    never a name) with the log position of its erasure. Run it again at any time: what is
    erased is not listed again. Exits 0 when done, 1 when a record changed meanwhile and
    was left (run it again), 69 before the read models are built, 78 when no policy is set
    (nothing is written)."""
    settings = load_settings()
    policy = RetentionPolicy.from_settings(settings)
    if policy is None:
        fail(POLICY_OFF, ExitCode.CONFIG)
    with (
        open_backend(settings) as backend,
        psycopg.connect(backend.conninfo, autocommit=True) as conn,
    ):
        try:
            run = retention.apply_policy(
                conn,
                backend.registry,
                policy,
                actor=actor or f"cli:{getpass.getuser()}",
                dry_run=dry_run,
            )
        except psycopg.errors.UndefinedTable:
            fail(
                "the read models are not built yet: run `campledger project`", ExitCode.UNAVAILABLE
            )
    if as_json:
        print(json.dumps(run.as_dict(), indent=2))
    else:
        _print_run(run)
    if run.read_models_behind:
        typer.echo(
            f"the read models are {run.read_models_behind:,} events behind the log: "
            "departures among them are left for the next run",
            err=True,
        )
    if run.left:
        fail(
            f"{len(run.left):,} records changed while the policy was applied and were left "
            "(see above): run the same command again",
            ExitCode.FAILED,
        )


def _print_run(run: Run) -> None:
    # Plain lines, one a record, whatever the terminal's width: the run is kept in a log.
    print(f"{run.policy.description}, as of {run.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    done = {e.due.person_id: e.position for e in run.erased}
    why = {k.due.person_id: k.reason for k in run.left}
    for due in run.due:
        line = (
            f"{due.person_id}  {due.registration_number}  departed "
            f"{due.departed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{due.days_since_departure:,} days ago"
        )
        if due.merged_into is not None:
            line += f"  (a duplicate record, merged into {due.merged_into})"
        if due.person_id in done:
            line += f"  erased at log position {done[due.person_id]:,}"
        elif due.person_id in why:
            line += f"  left: {why[due.person_id]}"
        print(line)
    if run.dry_run:
        print(f"dry run: {len(run.due):,} records would be erased; nothing was written")
    else:
        print(f"{len(run.erased):,} records erased under the retention policy")


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
