"""Arrivals: register one person, or a truckload (up to 1,000) all or nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from campledger.api.http.deps import BackendDep
from campledger.api.http.dispatch import IdempotencyKey, allowed, send
from campledger.api.schemas import (
    ArrivalBatchCreate,
    ArrivalBatchPublic,
    ArrivalPublic,
    SingleArrivalCreate,
)
from campledger.api.services.auth import Principal
from campledger.domain.commands import RegisterArrival, RegisterArrivals

router = APIRouter(prefix="/arrivals", tags=["arrivals"])

Registrar = Annotated[Principal, allowed(RegisterArrival)]


@router.post("", status_code=201, response_model=ArrivalPublic)
def register_arrival(
    body: SingleArrivalCreate,
    principal: Registrar,
    backend: BackendDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Register one person arriving at a site; ``Location`` is the person's URL."""
    command = RegisterArrival(site_code=body.site_code, arrival=body.to_arrival())
    return send(
        command, principal, backend, response, idempotency_key,
        located=lambda result: str(request.url_for("get_person", person_id=result["person_id"])),
    )  # fmt: skip


@router.post(
    "/batch",
    status_code=201,
    response_model=ArrivalBatchPublic,
    responses={
        409: {
            "description": "`batch-conflict`: every refused item is already registered (its "
            "registration number, biometric reference or person id is taken), as each alone "
            "would be 409; `items` names each by index. Nothing was registered."
        },
        413: {"description": "More than 1,000 arrivals in one batch."},
        422: {
            "description": "`batch-rejected`: at least one item is wrong in itself, or repeats "
            "another's number; `items` names each by index. Nothing was registered."
        },
    },
)
def register_batch(
    body: ArrivalBatchCreate,
    principal: Registrar,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Register a batch of arrivals in one transaction: all of them, or none. 201 with no
    ``Location``: the batch creates many people and none of them is the primary one; each
    is at ``/api/v1/persons/{id}`` for the ids in ``person_ids``, in the order sent."""
    command = RegisterArrivals(
        site_code=body.site_code, arrivals=[a.to_arrival() for a in body.arrivals]
    )
    return send(command, principal, backend, response, idempotency_key)
