"""Offline sync: a device sends the commands it recorded while offline, in one request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from campledger.api.http.deps import BackendDep, Caller, Pool
from campledger.api.services.family_tracing import households_in
from campledger.api.services.problems import PROBLEM_MEDIA_TYPE, problem_body
from campledger.api.services.sync import MAX_SYNC_ITEMS, SyncPublic, apply_batch
from campledger.api.services.sync_items import SyncRequest

router = APIRouter(prefix="/sync", tags=["sync"])


@router.post(
    "",
    response_model=SyncPublic,
    response_model_exclude_none=True,
    responses={
        413: {"description": f"More than {MAX_SYNC_ITEMS:,} commands in one batch."},
        422: {
            "description": "An atomic batch with a rejected item: nothing was applied; "
            "`results` says which item and why."
        },
    },
)
def sync(body: SyncRequest, principal: Caller, backend: BackendDep, pool: Pool) -> Any:
    """Apply a device's queued commands in order; each item is answered on its own
    (applied, already applied, or rejected with the problem its single endpoint gives).
    Sending the same batch again is harmless."""
    report = apply_batch(backend.registry, principal, body, households_in(pool))
    if report.failed:
        rejected = next(r for r in report.results if r.status == "rejected")
        problem = problem_body(
            422,
            "batch-rejected",
            "Batch rejected",
            f"item {rejected.index} was rejected; nothing in this atomic batch was applied",
            **report.body(),
        )
        return JSONResponse(problem, status_code=422, media_type=PROBLEM_MEDIA_TYPE)
    # Answered as built: the results are already SyncPublic's models, dumped; a second
    # pass over 1,000 of them through SyncPublic cost 10-30 ms a batch.
    return JSONResponse(report.body(), headers={"X-Log-Position": str(report.position)})
