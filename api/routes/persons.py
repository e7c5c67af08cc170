"""Persons: current state, screening, holds, departures, corrections and merges."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Response

from api.access_trail import record_access
from api.auth import Permission, Principal
from api.deps import Caller, Camp, IdempotencyKey, Pool, ReadConn, require
from api.family_tracing import authorise_correction, check_household_join, households_in
from api.problems import ApiProblem
from api.routes.commands import IF_MATCH_PATTERN, accepted, check_person_scope, expected_version
from api.schemas import (
    CorrectionCreate,
    DepartureCreate,
    HoldCreate,
    MergeCreate,
    MergePublic,
    PersonCommandPublic,
    ReleaseCreate,
    ScreeningCreate,
)
from projections import roster

router = APIRouter(prefix="/persons", tags=["persons"])

Reader = Annotated[Principal, Depends(require(Permission.PERSONS_READ))]
Screener = Annotated[Principal, Depends(require(Permission.SCREENING_WRITE))]
Departures = Annotated[Principal, Depends(require(Permission.DEPARTURES_WRITE))]
Merger = Annotated[Principal, Depends(require(Permission.MERGES_WRITE))]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=IF_MATCH_PATTERN,
        description='A person\'s ETag (`"7"`): refuse if the person changed since.',
    ),
]


@router.get("/{person_id}")
def get_person(
    person_id: UUID, principal: Reader, camp: Camp, conn: ReadConn, response: Response
) -> dict[str, Any]:
    """A person's current state; names, date of birth and biometric reference only for
    roles allowed to see personal data (and every such read is put on the access trail)."""
    check_person_scope(principal, camp.registry, person_id)
    personal = principal.can(Permission.PERSONAL_DATA)
    row = roster.get_person_row(conn, person_id, include_personal=personal)
    if row is None:
        raise ApiProblem(
            404,
            "person-not-found",
            "Person not found",
            f"no person with id {person_id} (or not yet projected: pass wait_for)",
        )
    if personal:
        record_access(conn, principal.actor, person_id, "GET /persons/{id}")
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


def _person_command(
    command: str,
    person_id: UUID,
    principal: Principal,
    camp: Camp,
    response: Response,
    idempotency_key: str | None,
    if_match: str | None,
    **kwargs: Any,
) -> dict[str, Any]:
    check_person_scope(principal, camp.registry, person_id)
    result = getattr(camp.registry, command)(
        person_id=person_id,
        actor=principal.actor,
        idempotency_key=idempotency_key,
        expected_version=expected_version(if_match),
        **kwargs,
    )
    body = accepted(result, response)
    if body.get("version") is not None:
        response.headers["ETag"] = f'"{body["version"]}"'
    return body


@router.post("/{person_id}/screening-steps", response_model=PersonCommandPublic)
def record_screening_step(
    person_id: UUID,
    body: ScreeningCreate,
    principal: Screener,
    camp: Camp,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Record a screening step's outcome; 'held' holds the person, on the order of the
    authority and order reference given (both required with 'held')."""
    return _person_command(
        "record_screening_step",
        person_id,
        principal,
        camp,
        response,
        idempotency_key,
        if_match,
        **body.command_fields(),
    )


@router.post("/{person_id}/hold", response_model=PersonCommandPublic)
def hold(
    person_id: UUID,
    body: HoldCreate,
    principal: Screener,
    camp: Camp,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Hold a person for further investigation, on an authority's order (authority and
    order reference required; a review date puts the hold on the register's review list).
    A held person may then be moved only in custody, to a holding facility or a hospital."""
    return _person_command(
        "hold_person",
        person_id,
        principal,
        camp,
        response,
        idempotency_key,
        if_match,
        **body.model_dump(),
    )


@router.post("/{person_id}/release", response_model=PersonCommandPublic)
def release(
    person_id: UUID,
    body: ReleaseCreate,
    principal: Screener,
    camp: Camp,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """End a hold (at a site, not in transit); name the authority and its order."""
    return _person_command(
        "release_person",
        person_id,
        principal,
        camp,
        response,
        idempotency_key,
        if_match,
        **body.model_dump(),
    )


@router.post("/{person_id}/departure", response_model=PersonCommandPublic)
def depart(
    person_id: UUID,
    body: DepartureCreate,
    principal: Departures,
    camp: Camp,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Record that a person left the caseload."""
    return _person_command(
        "record_departure",
        person_id,
        principal,
        camp,
        response,
        idempotency_key,
        if_match,
        **body.model_dump(),
    )


@router.post("/{person_id}/corrections", response_model=PersonCommandPublic)
def correct(
    person_id: UUID,
    body: CorrectionCreate,
    principal: Caller,
    camp: Camp,
    pool: Pool,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Correct a mistaken detail; the original value stays in the history. Setting a
    household id whose members are at sites outside the token's scope is family tracing:
    refused unless the role may trace families and the body says ``family_tracing``."""
    authorise_correction(principal, body.family_tracing)
    check_person_scope(principal, camp.registry, person_id)
    check_household_join(
        principal, person_id, body.field, body.value, body.family_tracing, households_in(pool)
    )
    return _person_command(
        "correct_detail",
        person_id,
        principal,
        camp,
        response,
        idempotency_key,
        if_match,
        **body.model_dump(),
    )


@router.post("/{person_id}/merge", response_model=MergePublic)
def merge(
    person_id: UUID,
    body: MergeCreate,
    principal: Merger,
    camp: Camp,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Merge this (duplicate) registration into the survivor."""
    check_person_scope(principal, camp.registry, person_id)
    check_person_scope(principal, camp.registry, body.survivor_id)
    result = camp.registry.merge_persons(
        duplicate_id=person_id,
        survivor_id=body.survivor_id,
        reason=body.reason,
        occurred_at=body.occurred_at,
        actor=principal.actor,
        idempotency_key=idempotency_key,
    )
    return accepted(result, response)
