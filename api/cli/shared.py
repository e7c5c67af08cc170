"""What every command needs first: the settings, or a readable exit when one is bad."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Final, NoReturn
from uuid import UUID

import psycopg
import typer
from pydantic import ValidationError

from campledger.api.settings import Settings, UnknownSettingError
from campledger.domain.model.errors import DomainError, ErrorKind
from campledger.domain.service.claims import REGISTRATION_NUMBER
from campledger.projections import roster_numbers

# Options several commands take, each declared once.
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ResultAsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ErasedBy = Annotated[
    str | None,
    typer.Option("--actor", help="Recorded as who erased (default: cli:<login name>)."),
]


class ExitCode(IntEnum):
    """What every command's exit status means, defined once. Apart from Click's 2 for a
    usage error, and from sysexits.h where one of its codes fits, so that a script or a
    supervisor can tell "the command line is wrong" from "the name matches nothing" from
    "try again later" without reading the message."""

    OK = 0
    FAILED = 1
    USAGE = 2  # Click's own, for a malformed command line: never used by a command
    NOT_FOUND = 3
    DATA_ERROR = 65  # EX_DATAERR
    UNAVAILABLE = 69  # EX_UNAVAILABLE
    TEMPORARY_FAILURE = 75  # EX_TEMPFAIL
    CONFIG = 78  # EX_CONFIG

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS: Final = {
    ExitCode.OK: "done",
    ExitCode.FAILED: "refused, or the command ran and found a problem (a name taken, bad "
    "rows, a broken hash chain); stderr says which, and nothing was written unless it says so",
    ExitCode.USAGE: "usage error: an unknown option, a missing argument, a malformed date",
    ExitCode.NOT_FOUND: "what was named matches nothing: a token, an account, a person, a "
    "site, a read model",
    ExitCode.DATA_ERROR: "the input file is unusable as a whole (no header, not CSV)",
    ExitCode.UNAVAILABLE: "not ready yet: the read models or the ledger are not built "
    "(run `campledger project`)",
    ExitCode.TEMPORARY_FAILURE: "stopped midway (database or worker): what was written "
    "stands; run the same command again",
    ExitCode.CONFIG: "the configuration was refused and nothing was started: an unknown "
    "CAMPLEDGER_* variable (misspelled?) or an invalid value, named on stderr without its "
    "value; or an embedded data folder written by another PostgreSQL major",
}

# The name the configuration's callers and tests knew it by before the others were defined.
CONFIGURATION_REFUSED: Final = ExitCode.CONFIG


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


def fail(message: str, code: ExitCode) -> NoReturn:
    """Say why on stderr and exit: stdout carries results only, so that a script reading
    them never reads a refusal as one. Plain text, never markup: the message may quote a
    name as it was typed, brackets and all."""
    typer.echo(f"campledger: {message}", err=True)
    raise typer.Exit(code=code)


def domain_exit_code(error: DomainError) -> ExitCode:
    """A refusal of the domain as an exit status: an unknown site or person is told apart
    from a rule that forbids what was asked."""
    return ExitCode.NOT_FOUND if error.kind is ErrorKind.NOT_FOUND else ExitCode.FAILED


def person_id_of(registry: Any, person: str, conninfo: str | None = None) -> UUID:
    """The person a command line names by id or by registration number; exits 3 if none.

    A number is found by its claim; an erased person gave theirs up, so with the database
    named (``conninfo``) the roster is asked who had it."""
    try:
        return UUID(person)
    except ValueError:
        pass
    owner = registry.journal.find_claim(REGISTRATION_NUMBER, person)
    if owner is None and conninfo is not None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            owner = roster_numbers.person_numbered(conn, person)
    if owner is None:
        fail(f"no person with id or registration number {person!r}", ExitCode.NOT_FOUND)
    return UUID(str(owner))
