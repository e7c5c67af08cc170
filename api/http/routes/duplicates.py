"""Likely duplicates: pairs proposed for review, and dismissals of pairs that are two people.

Confirming a pair is a merge (``POST /persons/{duplicate_id}/merge``); the list names
records by id, registration number and site only, so a reviewer opens each person
(``GET /persons/{id}``, which leaves an access-trail entry) to compare them.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from campledger.api.http.deps import BackendDep, ReadConn, require
from campledger.api.http.dispatch import IdempotencyKey, allowed, send
from campledger.api.http.lists import Cursor, FormerCursor, Limit, page_body
from campledger.api.schemas import Command, CommandPublic, Page, required_text
from campledger.api.schemas.examples import OTHER_PERSON, PERSON, example
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.duplicates_read import candidates_page
from campledger.domain.commands import DismissDuplicate

router = APIRouter(prefix="/duplicates", tags=["duplicates"])

Reader = Annotated[Principal, Depends(require(Permission.DUPLICATES_READ))]
Reviewer = Annotated[Principal, allowed(DismissDuplicate)]


class DismissalCreate(Command):
    model_config = example(
        {"person_id": PERSON, "other_id": OTHER_PERSON,
         "reason": "twins: same parents, different fingerprints"}
    )  # fmt: skip

    person_id: UUID
    other_id: UUID
    reason: str = required_text(500, examples=["twins: different mothers' names"])


class DismissalPublic(CommandPublic):
    pair_id: UUID
    person_id: UUID = Field(description="The lower of the two ids.")
    other_id: UUID


class CandidatePublic(BaseModel):
    person_id: UUID
    other_id: UUID
    score: float = Field(description="0–1: name similarity adjusted by birth year and household.")
    reasons: str = Field(examples=["name 0.93, same sex, birth year ±1, same household"])
    person_site_code: str | None
    other_site_code: str | None
    person_registration_number: str | None
    other_registration_number: str | None


@router.get("", response_model=Page[CandidatePublic])
def list_candidates(
    principal: Reader,
    conn: ReadConn,
    site_code: str | None = None,
    cursor: Cursor = None,
    after: FormerCursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Pairs of records that may be one person, highest score first; with ``site_code``,
    pairs with a record at (or last at) that site. A site-scoped token sees only the pairs
    whose two records are both at its sites: the ones it may merge or dismiss."""
    page = candidates_page(conn, principal, site_code, cursor or after, limit)
    return page_body(page)


# 200, not 201: a dismissal is recorded, but no URL reads it back (RFC 9110 would take the
# target URI, which answers no GET, for the created resource).
@router.post("/dismissals", status_code=200, response_model=DismissalPublic)
def dismiss(
    body: DismissalCreate,
    principal: Reviewer,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """These two records are two people: the pair is not proposed again."""
    return send(
        DismissDuplicate(**body.model_dump()), principal, backend, response, idempotency_key
    )
