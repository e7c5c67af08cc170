"""What every command endpoint shares: the permission it declares, the Idempotency-Key and
If-Match it takes, sending the command through the catalogue, shaping the result, locating
a person."""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Header, Response

from campledger.api.composition import Backend
from campledger.api.http.deps import require
from campledger.api.services import gazetteer
from campledger.api.services.auth import Principal
from campledger.api.services.catalogue import execute, permission_of
from campledger.api.services.family_tracing import HouseholdSites
from campledger.api.services.problems import bad_if_match
from campledger.domain.commands import Command
from campledger.domain.service.registry import CommandResult

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat a command safely: the same key and body return the first result.",
    ),
]


def allowed(command: type[Command]) -> Any:
    """A route's dependency: the caller, if its role may send this command (declared in
    the OpenAPI document, and refused before the body is read)."""
    return Depends(require(permission_of(command)))


def accepted(result: CommandResult, response: Response) -> dict[str, Any]:
    """The command's result with its log position; a replay answers 200, not 201."""
    response.headers["X-Log-Position"] = str(result.position)
    if result.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return {**result.result, "position": result.position, "replayed": result.replayed}


def send(
    command: Command,
    principal: Principal,
    backend: Backend,
    response: Response,
    idempotency_key: str | None,
    households: HouseholdSites | None = None,
) -> dict[str, Any]:
    """Authorise and run a command (``api/services/catalogue.py``), and answer with its result."""
    result = execute(
        principal, command, backend.registry, idempotency_key=idempotency_key,
        households=households, site_areas=partial(gazetteer.check_at, backend.conninfo),
    )  # fmt: skip
    return accepted(result, response)


# A person's ETag, as GET /persons/{id} sends it (optionally weak, optionally unquoted):
# declared in the OpenAPI document, and nine digits at most so that it is always a version
# the database can hold (a longer one was refused as unstorable, which the document hid).
IF_MATCH_PATTERN = r'^\s*(W/)?"?[0-9]{1,9}"?\s*$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN)


def expected_version(if_match: str | None) -> int | None:
    """``If-Match: "7"`` (the ETag of a person read) becomes the expected aggregate version."""
    if if_match is None:
        return None
    if not _IF_MATCH.match(if_match):
        raise bad_if_match()
    return int(if_match.strip().removeprefix("W/").strip('"'))
