"""What every command endpoint shares: shaping the result and locating a person."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Response

from api.auth import Principal
from api.deps import check_scope
from api.problems import ApiProblem
from api.scoping import person_sites
from domain.registry import CommandResult, Registry


def accepted(result: CommandResult, response: Response) -> dict[str, Any]:
    """The command's result with its log position; a replay answers 200, not 201."""
    response.headers["X-Log-Position"] = str(result.position)
    if result.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return {**result.result, "position": result.position, "replayed": result.replayed}


def check_person_scope(principal: Principal, registry: Registry, person_id: UUID) -> None:
    if principal.scoped:
        check_scope(principal, *person_sites(registry, person_id))


def expected_version(if_match: str | None) -> int | None:
    """``If-Match: "7"`` (the ETag of a person read) becomes the expected aggregate version."""
    if if_match is None:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiProblem(400, "bad-if-match", "Bad If-Match", "If-Match must be a version ETag")
    return int(tag)
