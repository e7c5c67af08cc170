"""Auditors' commands: ``history``, ``audit``, ``access-trail``, ``verify`` and ``db secure``."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from campledger.api.cli.shared import (
    AsJson,
    ExitCode,
    domain_exit_code,
    fail,
    load_settings,
    person_id_of,
)
from campledger.api.composition import open_backend
from campledger.api.database.access_trail import create_access_trail
from campledger.api.database.embedded import EMBEDDED_POSTGRES_MAJOR, upgrade_embedded
from campledger.api.database.secure import secure_database
from campledger.api.services import safe_csv
from campledger.api.services.access_trail import access_entries, record_access
from campledger.domain.history import PersonHistory, person_history
from campledger.domain.model import errors
from campledger.projections.audit_log import audit_entries
from campledger.projections.verify import prove_digest, verify_log

console = Console()
db_app = typer.Typer(help="Database administration.")


def _zoned_time(value: str) -> datetime:
    """An ISO 8601 time with a zone, parsed with the command line: a malformed one is a
    usage error naming the option. A naive time would mean different things on two axes."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time, e.g. 2025-03-01T10:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise typer.BadParameter("give a time zone, e.g. 2025-03-01T10:00Z")
    return parsed


def _time_option(help: str, *names: str) -> Any:
    return typer.Option(*names, help=help, parser=_zoned_time, metavar="TIME")


def _print_json(body: Any) -> None:
    sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")


# --- history ----------------------------------------------------------------------------


def history(
    person: Annotated[str, typer.Argument(help="Person id (UUID) or registration number.")],
    as_of: Annotated[
        datetime | None, _time_option("State at this field time (occurred_at ≤ T).")
    ] = None,
    known_at: Annotated[
        datetime | None, _time_option("What the system knew at this recorded time.")
    ] = None,
    personal: Annotated[
        bool, typer.Option(help="Show personal data (recorded in the access trail).")
    ] = False,
    actor: Annotated[
        str | None, typer.Option(help="Who is asking; required with --personal.")
    ] = None,
    duplicates: Annotated[
        bool, typer.Option(help="Also show the histories of records merged into this one.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Every event of a person in order, with the state after each one."""
    if personal and not actor:
        raise typer.BadParameter("say who you are with --actor", param_hint="--personal")
    with open_backend(load_settings()) as app:
        person_id = person_id_of(app.registry, person, app.conninfo)
        try:
            found = person_history(
                app.registry,
                person_id,
                as_of=as_of,
                known_at=known_at,
                include_personal=personal,
                include_duplicates=duplicates,
            )
        except errors.DomainError as e:
            fail(e.message, domain_exit_code(e))
        if personal and actor:
            with psycopg.connect(app.conninfo, autocommit=True) as conn:
                create_access_trail(conn)
                record_access(conn, actor, person_id, "campledger history --personal")
    if as_json:
        _print_json(found.as_dict())
        return
    _print_history(found, personal)


def _print_history(found: PersonHistory, personal: bool) -> None:
    title = f"History of {found.person_id}"
    if found.as_of:
        title += f" as of {found.as_of.isoformat()} (field time)"
    if found.known_at:
        title += f", as known at {found.known_at.isoformat()} (recorded time)"
    tables = [(title, found.entries)] + [
        (f"Merged duplicate {k}", v) for k, v in found.duplicates.items()
    ]
    for heading, entries in tables:
        table = Table(title=heading, title_justify="left")
        for column in ("v", "recorded at", "occurred at", "actor", "action", "site", "reason",
                       "reference", "status after"):  # fmt: skip
            table.add_column(column, overflow="fold")
        for e in entries:
            reference = ", ".join(f"{k}={v}" for k, v in e.reference.items())
            table.add_row(
                str(e.version),
                e.recorded_at.isoformat(timespec="seconds"),
                e.occurred_at.isoformat(timespec="seconds"),
                e.actor,
                e.action,
                e.site_code or "",
                e.reason or "",
                reference,
                f"{e.state['status']} {e.state['site_code'] or ''}".strip(),
            )
        console.print(table)
    if found.erased:
        console.print("[yellow]personal data erased: every personal value reads \\[erased][/]")
    state = found.state
    if state is None:
        console.print("[yellow]not registered at that time[/]")
        return
    table = Table(title="State", show_header=False, title_justify="left")
    for key, value in state.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)
    if not personal:
        console.print("[dim]personal data hidden; --personal --actor NAME shows it[/]")


# --- audit log ------------------------------------------------------------------------------


def audit(
    actor: Annotated[str | None, typer.Option(help="Only this actor's events.")] = None,
    subject: Annotated[str | None, typer.Option(help="Only events of this aggregate id.")] = None,
    site: Annotated[str | None, typer.Option(help="Only events at this site code.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    from_: Annotated[
        datetime | None, _time_option("Recorded at or after this time.", "--from")
    ] = None,
    to: Annotated[datetime | None, _time_option("Recorded before this time.")] = None,
    occurred_from: Annotated[datetime | None, _time_option("Occurred at or after.")] = None,
    occurred_to: Annotated[datetime | None, _time_option("Occurred before.")] = None,
    after: Annotated[int | None, typer.Option(help="Page on: after this log position.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 100,
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Query the audit log (the audit_log read model) by actor, subject, site, action, time."""
    query: dict[str, Any] = {
        "actor": actor,
        "subject_id": UUID(subject) if subject else None,
        "site_code": site,
        "action": action,
        "recorded_from": from_,
        "recorded_to": to,
        "occurred_from": occurred_from,
        "occurred_to": occurred_to,
        "after_position": after,
        "limit": limit,
    }
    with open_backend(load_settings()) as app, psycopg.connect(app.conninfo) as conn:
        rows = [_row(entry) for entry in audit_entries(conn, **query)]
    _print_rows(rows, "Audit log", as_json, as_csv)


def _row(entry: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return dataclasses.asdict(entry)
    if hasattr(entry, "_asdict"):
        return dict(entry._asdict())
    return dict(entry)


def _print_rows(rows: list[dict[str, Any]], title: str, as_json: bool, as_csv: bool) -> None:
    if as_json:
        _print_json(rows)
        return
    if as_csv:
        columns = list(rows[0]) if rows else []
        writer = safe_csv.writer(sys.stdout)  # reasons and references are user-typed text
        writer.writerow(columns)
        writer.writerows([row.get(c) for c in columns] for row in rows)
        return
    table = Table(title=f"{title}: {len(rows)} entries", title_justify="left")
    for column in rows[0] if rows else ["(no entries)"]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


def access_trail(
    person: Annotated[str | None, typer.Option(help="Only reads of this person id.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only reads by this actor.")] = None,
    from_: Annotated[datetime | None, _time_option("At or after this time.", "--from")] = None,
    to: Annotated[datetime | None, _time_option("Before this time.")] = None,
    after: Annotated[int | None, typer.Option(help="Page on: after this entry id.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 100,
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Who read whose personal data, when, and through what."""
    with open_backend(load_settings()) as app, psycopg.connect(app.conninfo) as conn:
        create_access_trail(conn)
        entries = access_entries(
            conn,
            person_id=UUID(person) if person else None,
            actor=actor,
            from_=from_,
            to=to,
            after=after,
            limit=limit,
        )
    _print_rows([e.as_dict() for e in entries], "Access trail", as_json, as_csv)


# --- verify -----------------------------------------------------------------------------------


def verify(
    digest: Annotated[
        str | None, typer.Option(help="A digest you kept (hex); needs --position.")
    ] = None,
    position: Annotated[int | None, typer.Option(help="The position the digest is at.")] = None,
    as_json: AsJson = False,
) -> None:
    """Recompute the hash chain from the event table; exit 1 at the first broken position.

    With --digest and --position: prove the log up to that position still hashes to the
    digest you kept, computed from the events alone.
    """
    if (digest is None) != (position is None):
        raise typer.BadParameter("give --digest and --position together")
    with open_backend(load_settings()) as app:
        if digest is not None and position is not None:
            proof = prove_digest(app.conninfo, position, digest)
            if as_json:
                _print_json(proof.as_dict())
            elif proof.ok:
                console.print(
                    f"[green]✓ the log up to position {position:,} matches the kept digest[/] "
                    f"({proof.events:,} events in {proof.seconds:.2f} s)"
                )
            else:
                console.print(f"[red]✗ {proof.problem}[/]")
                console.print(f"  kept:       {proof.expected}\n  recomputed: {proof.recomputed}")
            raise typer.Exit(code=ExitCode.OK if proof.ok else ExitCode.FAILED)
        try:
            report = verify_log(app.conninfo)
        except psycopg.errors.UndefinedTable:
            fail(
                "no ledger yet: run `campledger project` or `rebuild ledger`", ExitCode.UNAVAILABLE
            )
    if as_json:
        _print_json(report.as_dict())
    else:
        table = Table(show_header=False, title="Ledger verification", title_justify="left")
        verdict = "[green]✓ intact[/]" if report.ok else f"[red]✗ broken: {report.problem}[/]"
        table.add_row("result", verdict)
        if report.broken_at is not None:
            table.add_row("first broken position", f"[red]{report.broken_at:,}[/]")
        table.add_row("events hashed", f"{report.events:,}")
        table.add_row("ledger checked up to", f"{report.checked_up_to:,}")
        if report.ok:
            table.add_row("head position", f"{report.head:,}")
            table.add_row("digest at head", report.digest)
        if report.unverified:
            table.add_row("not yet in the ledger", f"{report.unverified:,} (run the projector)")
        table.add_row("speed", f"{report.events_per_second:,.0f} events/s")
        console.print(table)
    raise typer.Exit(code=ExitCode.OK if report.ok else ExitCode.FAILED)


# --- db secure -------------------------------------------------------------------------------


@db_app.command("secure")
def secure(
    role: Annotated[str, typer.Option(help="The application's login role.")] = "campledger_app",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="CAMPLEDGER_APP_PASSWORD",
            help="Its password (or CAMPLEDGER_APP_PASSWORD); prompted if missing.",
            show_default=False,
        ),
    ] = None,
    keep_password: Annotated[
        bool, typer.Option(help="Leave an existing role's password as it is.")
    ] = False,
) -> None:
    """Make the event log append-only and create a least-privileged application role."""
    settings = load_settings()
    if not settings.database_url:
        typer.echo("no CAMPLEDGER_DATABASE_URL: securing the embedded server", err=True)
    if password is None and not keep_password:
        password = typer.prompt("password for the application role", hide_input=True)
    with open_backend(settings) as app:  # starting the Registry creates its tables
        with app.projector() as projector:
            projector.setup()
        with psycopg.connect(app.conninfo, autocommit=True) as conn:
            report = secure_database(conn, role, password)
    console.print(f"[green]role {report.role} {'created' if report.created else 'updated'}[/]")
    console.print(f"append-only (UPDATE, DELETE, TRUNCATE refused): {', '.join(report.guarded)}")
    for grant in report.grants:
        console.print(f"  granted {grant}")
    for schema in report.read_schemas:
        console.print(f"  owns read-model schema {schema}")
    console.print(
        "Run the application as this role with CREATE_TABLE=false (it cannot create tables)."
    )


@db_app.command("upgrade-embedded")
def upgrade_embedded_database() -> None:
    """Upgrade the embedded database's data folder to the PostgreSQL major this release runs
    (pg_upgrade, in place; the old folder stays beside it as pgdata.old). Back up first."""
    settings = load_settings()
    if settings.database_url:
        fail("CAMPLEDGER_DATABASE_URL is set: upgrade that server as its operator does "
             "(docs/database.md)", ExitCode.FAILED)  # fmt: skip
    typer.echo(f"upgrading {settings.data_dir} to PostgreSQL {EMBEDDED_POSTGRES_MAJOR}…", err=True)
    was = upgrade_embedded(settings.data_dir)
    if was is None:
        typer.echo(f"already PostgreSQL {EMBEDDED_POSTGRES_MAJOR} (or no data yet): nothing to do")
    else:
        typer.echo(f"upgraded from PostgreSQL {was} to {EMBEDDED_POSTGRES_MAJOR}")


def register(app: typer.Typer) -> None:
    app.command()(history)
    app.command()(audit)
    app.command("access-trail")(access_trail)
    app.command()(verify)
    app.add_typer(db_app, name="db")
