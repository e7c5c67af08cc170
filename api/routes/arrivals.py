"""Arrivals: register one person, or a truckload (up to 1,000) all or nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.auth import Permission, Principal
from api.deps import Camp, IdempotencyKey, check_scope, require
from api.routes.commands import accepted
from api.schemas import (
    ArrivalBatchCreate,
    ArrivalBatchPublic,
    ArrivalPublic,
    SingleArrivalCreate,
)

router = APIRouter(prefix="/arrivals", tags=["arrivals"])

Registrar = Annotated[Principal, Depends(require(Permission.ARRIVALS_WRITE))]


@router.post("", status_code=201, response_model=ArrivalPublic)
def register_arrival(
    body: SingleArrivalCreate,
    principal: Registrar,
    camp: Camp,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Register one person arriving at a site."""
    check_scope(principal, body.site_code)
    result = camp.registry.register_arrival(
        site_code=body.site_code,
        arrival=body.to_arrival(),
        actor=principal.actor,
        idempotency_key=idempotency_key,
    )
    return accepted(result, response)


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
    camp: Camp,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Register a batch of arrivals in one transaction: all of them, or none."""
    check_scope(principal, body.site_code)
    result = camp.registry.register_arrivals(
        site_code=body.site_code,
        arrivals=[a.to_arrival() for a in body.arrivals],
        actor=principal.actor,
        idempotency_key=idempotency_key,
    )
    return accepted(result, response)
