"""Health (liveness, database, projection lag) and Prometheus metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import Permission, Principal
from api.deps import Camp, Pool, check_scope, require
from api.metrics import PROJECTION_LAG, REGISTRY
from api.schemas import HealthPublic
from projections.engine import Projector

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def health(camp: Camp, pool: Pool, response: Response) -> dict[str, Any]:
    """Alive; whether the database answers; how far each read model lags the log."""
    body: dict[str, Any] = {"status": "ok", "database": False, "checked_at": datetime.now(UTC)}
    try:
        with pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
        with Projector(camp.database_url) as projector:
            head = projector.head()
            lag = {name: head - seen for name, seen in projector.checkpoints().items()}
    except Exception:
        body["status"] = "degraded"
        response.status_code = 503
        return body
    for name, behind in lag.items():
        PROJECTION_LAG.labels(read_model=name).set(behind)
    body.update(database=True, head=head, lag=lag)
    return body


def require_metrics_reader(
    principal: Annotated[Principal, Depends(require(Permission.METRICS_READ))],
) -> None:
    """A monitor, auditor or admin token: route names and counts describe the whole
    operation's activity, so they are not for anyone who can reach the port."""
    check_scope(principal, None)  # the figures span every site


@router.get(
    "/metrics",
    dependencies=[Depends(require_metrics_reader)],
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format.",
        }
    },
)
def metrics() -> Response:
    """Request counts and latencies by route template, projection lag (for Prometheus)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
