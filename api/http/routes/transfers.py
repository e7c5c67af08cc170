"""Transfers: plan with a manifest, dispatch, receive, reconcile, cancel; who is missing."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from campledger.api.http.deps import BackendDep, ReadConn, require
from campledger.api.http.dispatch import IdempotencyKey, allowed, send
from campledger.api.http.lists import Cursor, Limit, page_of
from campledger.api.schemas import Command as Occurrence
from campledger.api.schemas import (
    Page,
    ReasonCommand,
    ReceiptCreate,
    TransferCommandPublic,
    TransferCreate,
)
from campledger.api.schemas.movements import TransferInTransit, TransferPublic, UnaccountedPerson
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.transfers_read import read_transfer
from campledger.domain.commands import (
    CancelTransfer,
    DispatchTransfer,
    PlanTransfer,
    ReceiveTransfer,
    ReconcileTransfer,
)
from campledger.projections import transfers

router = APIRouter(prefix="/transfers", tags=["transfers"])

Officer = Annotated[Principal, allowed(PlanTransfer)]
Reader = Annotated[Principal, Depends(require(Permission.TRANSFERS_READ))]


@router.post("", status_code=201, response_model=TransferCommandPublic)
def plan(
    body: TransferCreate,
    principal: Officer,
    backend: BackendDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Plan a movement; everyone on the manifest is reserved for it until it leaves.
    ``Location`` is the transfer's URL."""
    return send(
        PlanTransfer(**body.model_dump()), principal, backend, response, idempotency_key,
        located=lambda result: str(
            request.url_for("get_transfer", transfer_id=result["transfer_id"])
        ),
    )  # fmt: skip


@router.post("/{transfer_id}/dispatch", response_model=TransferCommandPublic)
def dispatch(
    transfer_id: UUID,
    body: Occurrence,
    principal: Officer,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The vehicle left the origin with everyone on the manifest."""
    command = DispatchTransfer(transfer_id=transfer_id, occurred_at=body.occurred_at)
    return send(command, principal, backend, response, idempotency_key)


@router.post("/{transfer_id}/receipts", response_model=TransferCommandPublic)
def receive(
    transfer_id: UUID,
    body: ReceiptCreate,
    principal: Officer,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Check persons in at the destination (all at once, or as they come off the truck)."""
    command = ReceiveTransfer(transfer_id=transfer_id, **body.model_dump())
    return send(command, principal, backend, response, idempotency_key)


@router.post("/{transfer_id}/reconcile", response_model=TransferCommandPublic)
def reconcile(
    transfer_id: UUID,
    body: Occurrence,
    principal: Officer,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Close the transfer: whoever was dispatched but not received is unaccounted for."""
    command = ReconcileTransfer(transfer_id=transfer_id, occurred_at=body.occurred_at)
    return send(command, principal, backend, response, idempotency_key)


@router.post("/{transfer_id}/cancel", response_model=TransferCommandPublic)
def cancel(
    transfer_id: UUID,
    body: ReasonCommand,
    principal: Officer,
    backend: BackendDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Cancel a planned transfer; its manifest is freed. Only the origin may cancel."""
    # The origin planned it and holds the people on its manifest: a destination that
    # cannot take them says so to the origin, it does not undo the origin's plan.
    command = CancelTransfer(transfer_id=transfer_id, **body.model_dump())
    return send(command, principal, backend, response, idempotency_key)


@router.get("/in-transit", response_model=Page[TransferInTransit])
def in_transit(
    principal: Reader, conn: ReadConn, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    """Transfers dispatched and not yet reconciled, oldest departure first; a scoped token
    sees those from or to its sites."""
    return page_of(transfers.transfers_in_transit, conn, principal, cursor, limit)


@router.get("/unaccounted", response_model=Page[UnaccountedPerson])
def unaccounted(
    principal: Reader, conn: ReadConn, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    """Persons dispatched but never received: nobody may silently disappear."""
    return page_of(transfers.unaccounted_persons, conn, principal, cursor, limit)


@router.get("/{transfer_id}", response_model=TransferPublic)
def get_transfer(transfer_id: UUID, principal: Reader, conn: ReadConn) -> dict[str, Any]:
    """A transfer's state, manifest, and who was received or is unaccounted for."""
    return read_transfer(conn, principal, transfer_id)
