"""``campledger erase PERSON``: erase a person's personal data for good
(docs/data-protection.md), as the data protection officer's endpoint does."""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer

from campledger.api.cli.shared import (
    ErasedBy,
    ResultAsJson,
    domain_exit_code,
    fail,
    load_settings,
    person_id_of,
)
from campledger.api.composition import open_backend
from campledger.domain.model import errors
from campledger.domain.model.values import ErasureBasis


def erase(
    person: Annotated[str, typer.Argument(help="Person id (UUID) or registration number.")],
    reason: Annotated[
        ErasureBasis,
        typer.Option(
            "--reason",
            help="Why: the person asked, a court ordered it, the data protection officer "
            "decided, or the retention policy.",
        ),
    ],
    order_reference: Annotated[
        str,
        typer.Option(
            "--order-reference",
            help="The order's or the request's reference (required with court_order). "
            "No personal data: it is recorded in the clear.",
        ),
    ] = "",
    actor: ErasedBy = None,
    as_json: ResultAsJson = False,
) -> None:
    """Erase a person's personal data: their key is destroyed, so their names, date of
    birth, biometric reference and free-text reasons become unreadable in every event and
    every copy of the database; the read models keep their non-personal row. Exits 0 when
    erased, 1 when refused (already erased, a bad reference), 3 when no such person."""
    settings = load_settings()
    with open_backend(settings) as backend:
        registry = backend.registry
        person_id = person_id_of(registry, person, backend.conninfo)
        try:
            done = registry.erase_personal_data(
                person_id=person_id,
                basis=reason.value,
                order_reference=order_reference,
                actor=actor or f"cli:{getpass.getuser()}",
            )
        except errors.DomainError as error:
            fail(error.message, domain_exit_code(error))
    if as_json:
        print(json.dumps({**done.result, "position": done.position}))
        return
    typer.echo(f"personal data of person {person_id} erased (log position {done.position})")


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
