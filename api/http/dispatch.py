"""What every command endpoint shares: the permission it declares, the Idempotency-Key and
If-Match it takes, sending the command through the catalogue, shaping the result, locating
a person."""

from __future__ import annotations

import re
from collections.abc import Callable
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

# How long an Idempotency-Key is kept, and what a reuse or an overlap answers: stated in
# the OpenAPI document, as the IETF draft "The Idempotency-Key HTTP Header Field" asks.
IDEMPOTENCY_KEY_DESCRIPTION = (
    "Repeat a command safely: a request sent again with the same key and body writes nothing "
    "and answers what the first one answered (same status, same body, same `Location`) with "
    "`Idempotent-Replayed: true`. The same key with a different body is refused with 422 "
    "`idempotency-key-reused`; a copy sent while the first request is still being applied "
    "gets 409 `idempotency-key-in-flight` and `Retry-After` (send it again then, to get the "
    "first one's answer). Keys belong to the caller (token or account) and are kept as long "
    "as the event log: they never expire, so a key is never reused for another request."
)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description=IDEMPOTENCY_KEY_DESCRIPTION),
]


def allowed(command: type[Command]) -> Any:
    """A route's dependency: the caller, if its role may send this command (declared in
    the OpenAPI document, and refused before the body is read)."""
    return Depends(require(permission_of(command)))


def accepted(
    result: CommandResult, response: Response, location: str | None = None
) -> dict[str, Any]:
    """The command's result with its log position. A replay answers just as the first
    request did (its status is the route's, and so is ``location``, the URL of what it
    created), flagged ``Idempotent-Replayed``."""
    response.headers["X-Log-Position"] = str(result.position)
    if location is not None:
        response.headers["Location"] = location
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return {**result.result, "position": result.position, "replayed": result.replayed}


def send(
    command: Command,
    principal: Principal,
    backend: Backend,
    response: Response,
    idempotency_key: str | None,
    households: HouseholdSites | None = None,
    located: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """Authorise and run a command (``api/services/catalogue.py``), and answer with its
    result; ``located`` turns the result into the URL of the resource it created."""
    result = execute(
        principal, command, backend.registry, idempotency_key=idempotency_key,
        households=households, site_areas=partial(gazetteer.check_at, backend.conninfo),
    )  # fmt: skip
    return accepted(result, response, None if located is None else located(result.result))


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
