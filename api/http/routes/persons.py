"""Persons: current state, screening, holds, departures, erasure, subject access,
corrections and merges."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Response

from campledger.api.http.deps import BackendDep, Caller, Pool, ReadConn, require
from campledger.api.http.dispatch import (
    IF_MATCH_PATTERN,
    IdempotencyKey,
    allowed,
    expected_version,
    send,
)
from campledger.api.schemas import (
    CorrectionCreate,
    DepartureCreate,
    ErasureCreate,
    HoldCreate,
    MergeCreate,
    MergePublic,
    PersonCommandPublic,
    ReleaseCreate,
    ScreeningCreate,
)
from campledger.api.schemas.people import PersonPublic
from campledger.api.schemas.subject_access import SubjectExportPublic
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.family_tracing import HouseholdSites, households_in
from campledger.api.services.persons_read import read_person
from campledger.api.services.subject_access import check_subject_access, export_subject
from campledger.domain.commands import (
    CorrectDetail,
    ErasePersonalData,
    HoldPerson,
    MergePersons,
    PersonCommand,
    RecordDeparture,
    RecordScreeningStep,
    ReleasePerson,
)

router = APIRouter(prefix="/persons", tags=["persons"])

Reader = Annotated[Principal, Depends(require(Permission.PERSONS_READ))]
Screener = Annotated[Principal, allowed(RecordScreeningStep)]
Departures = Annotated[Principal, allowed(RecordDeparture)]
Merger = Annotated[Principal, allowed(MergePersons)]
Eraser = Annotated[Principal, allowed(ErasePersonalData)]


# A real dependency, as the auditors' is (api/http/routes/audit.py says why).
def require_subject_access(
    principal: Annotated[Principal, Depends(require(Permission.SUBJECT_ACCESS))],
) -> str:
    """The exporter's name, recorded on the access trail; unscoped tokens only."""
    return check_subject_access(principal)


Exporter = Annotated[str, Depends(require_subject_access)]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=IF_MATCH_PATTERN,
        description='A person\'s ETag (`"7"`): refuse if the person changed since.',
    ),
]


@router.get("/{person_id}", response_model=PersonPublic, response_model_exclude_unset=True)
def get_person(
    person_id: UUID, principal: Reader, backend: BackendDep, conn: ReadConn, response: Response
) -> dict[str, Any]:
    """A person's current state; names, date of birth and biometric reference only for
    roles allowed to see personal data (and every such read is put on the access trail)."""
    row = read_person(conn, backend.registry, principal, person_id, "GET /persons/{id}")
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


# Unset, not null: a history event's reference names only the fields its event has (as
# the history's own route answers it); every key the export gives stays, nulls included.
@router.get(
    "/{person_id}/subject-export",
    response_model=SubjectExportPublic,
    response_model_exclude_unset=True,
)
def export_subject_data(
    person_id: UUID, actor: Exporter, backend: BackendDep, conn: ReadConn, response: Response
) -> dict[str, Any]:
    """Everything held about one person, for their right of access: current state and
    history with personal data, household, likely duplicates, the audit log's and the
    access trail's entries about them. The export is itself put on the access trail
    first, and listed in it (`export_entry`). For the data protection officer and the
    administrator, with a token scoped to no site (an export spans every site the person
    passed through). An erased person's export answers too, `erased` true and their
    personal values gone. An unknown person is 404, and nothing is recorded."""
    document = export_subject(
        backend.registry, conn, person_id, actor=actor, purpose="GET /persons/{id}/subject-export"
    )
    # Said here as well as by the middleware's default: this answer must never be kept.
    response.headers["Cache-Control"] = "no-store"
    return document


def _on_person(
    command: PersonCommand,
    if_match: str | None,
    principal: Principal,
    backend: BackendDep,
    response: Response,
    idempotency_key: str | None,
    households: HouseholdSites | None = None,
) -> dict[str, Any]:
    """Send a command on one person, refused if the person changed since the ETag given
    in If-Match; the answer carries the person's new ETag."""
    command = dataclasses.replace(command, expected_version=expected_version(if_match))
    body = send(command, principal, backend, response, idempotency_key, households)
    if body.get("version") is not None:
        response.headers["ETag"] = f'"{body["version"]}"'
    return body


@router.post("/{person_id}/screening-steps", response_model=PersonCommandPublic)
def record_screening_step(
    person_id: UUID,
    body: ScreeningCreate,
    principal: Screener,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Record a screening step's outcome; 'held' holds the person, on the order of the
    authority and order reference given (both required with 'held')."""
    command = RecordScreeningStep(person_id=person_id, **body.command_fields())
    return _on_person(command, if_match, principal, backend, response, idempotency_key)


@router.post("/{person_id}/hold", response_model=PersonCommandPublic)
def hold(
    person_id: UUID,
    body: HoldCreate,
    principal: Screener,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Hold a person for further investigation, on an authority's order (authority and
    order reference required; a review date puts the hold on the register's review list).
    A held person may then be moved only in custody, to a holding facility or a hospital."""
    command = HoldPerson(person_id=person_id, **body.model_dump())
    return _on_person(command, if_match, principal, backend, response, idempotency_key)


@router.post("/{person_id}/release", response_model=PersonCommandPublic)
def release(
    person_id: UUID,
    body: ReleaseCreate,
    principal: Screener,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """End a hold (at a site, not in transit); name the authority and its order."""
    command = ReleasePerson(person_id=person_id, **body.model_dump())
    return _on_person(command, if_match, principal, backend, response, idempotency_key)


@router.post("/{person_id}/departure", response_model=PersonCommandPublic)
def depart(
    person_id: UUID,
    body: DepartureCreate,
    principal: Departures,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Record that a person left the caseload. A held person leaves only as `deceased` or
    `absconded` (409 `held-person-departure` otherwise): release them first."""
    command = RecordDeparture(person_id=person_id, **body.model_dump())
    return _on_person(command, if_match, principal, backend, response, idempotency_key)


@router.post("/{person_id}/erasure", response_model=PersonCommandPublic)
def erase(
    person_id: UUID,
    body: ErasureCreate,
    principal: Eraser,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Erase a person's personal data for good: their key is destroyed, so names, date of
    birth, biometric reference and free-text reasons in every event become unreadable;
    their claims on a registration number and a biometric reference are given up; the
    read models keep the person's non-personal row (shown as erased). A second erasure is
    409 `personal-data-erased`. For the data protection officer and the administrator."""
    command = ErasePersonalData(person_id=person_id, **body.model_dump())
    return _on_person(command, if_match, principal, backend, response, idempotency_key)


@router.post("/{person_id}/corrections", response_model=PersonCommandPublic)
def correct(
    person_id: UUID,
    body: CorrectionCreate,
    principal: Caller,
    backend: BackendDep,
    pool: Pool,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Correct a mistaken detail; the original value stays in the history. Setting a
    household id whose members are at sites outside the token's scope is family tracing:
    refused unless the role may trace families and the body says ``family_tracing``."""
    command = CorrectDetail(person_id=person_id, **body.model_dump())
    households = households_in(pool)
    return _on_person(command, if_match, principal, backend, response, idempotency_key, households)


@router.post("/{person_id}/merge", response_model=MergePublic)
def merge(
    person_id: UUID,
    body: MergeCreate,
    principal: Merger,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Merge this (duplicate) registration into the survivor."""
    command = MergePersons(duplicate_id=person_id, **body.model_dump())
    return send(command, principal, backend, response, idempotency_key)
