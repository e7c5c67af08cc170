"""Health (liveness, database, projection lag) and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from campledger.api.http.deps import BackendDep, Pool, require
from campledger.api.http.metrics import CONTENT_TYPE, PROJECTION_LAG, exposition
from campledger.api.schemas import HealthPublic, LivePublic
from campledger.api.services import readiness
from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission, Principal

router = APIRouter(tags=["health"])
# The conventional probe paths (Kubernetes' /livez and /readyz), at the root only: a probe
# is configured with a path, not with the API's prefix.
probes = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthPublic,
    response_model_exclude_none=True,
    responses={503: {"model": HealthPublic, "description": "Not ok: see status."}},
)
def health(backend: BackendDep, pool: Pool, request: Request, response: Response) -> dict[str, Any]:
    """Ready, and the read side keeps up: 200 only when the database answers, the live
    projector is running and no event is set aside; otherwise 503 and the status says
    which (degraded, busy, unavailable). Head, each read model's lag and the positions
    set aside are reported either way."""
    report = readiness.check(pool, backend.database_url, full=True)
    report.waiting_reads = request.app.state.watch.waiting
    for name, behind in (report.lag or {}).items():
        PROJECTION_LAG.labels(read_model=name).set(behind)
    if report.status != "ok":
        response.status_code = 503
    return report.as_dict()


_READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "model": HealthPublic,
        "description": "busy (every pooled connection in use) or unavailable (no database).",
    }
}


@probes.get(
    "/readyz",
    response_model=HealthPublic,
    response_model_exclude_none=True,
    responses=_READY_RESPONSES,
)
def readyz(backend: BackendDep, pool: Pool, response: Response) -> dict[str, Any]:
    """Readiness, for a load balancer: 200 while this process can serve requests (the
    database answers and a pooled connection is free within half a second); 503 with
    status "busy" (every pooled connection in use) or "unavailable" (no database)."""
    report = readiness.check(pool, backend.database_url, full=False)
    if not report.ready:
        response.status_code = 503
        response.headers["Retry-After"] = "1"
    return report.as_dict()


@probes.get("/livez", response_model=LivePublic)
async def livez() -> dict[str, str]:
    """Liveness, for a supervisor: the process answers. Needs no database, so a database
    outage never gets the API restarted."""
    return {"status": "alive"}


@router.get(
    "/health/ready",
    response_model=HealthPublic,
    response_model_exclude_none=True,
    responses=_READY_RESPONSES,
    deprecated=True,
)
def ready(backend: BackendDep, pool: Pool, response: Response) -> dict[str, Any]:
    """Deprecated alias of `/readyz`, kept for probes configured before it: same answer."""
    return readyz(backend, pool, response)


@router.get("/health/live", response_model=LivePublic, deprecated=True)
async def live() -> dict[str, str]:
    """Deprecated alias of `/livez`, kept for probes configured before it: same answer."""
    return await livez()


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
            "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format.",
        }
    },
)
def metrics() -> Response:
    """Request counts and durations by route template, the projector's lag, heartbeat and
    events applied, and the process and platform collectors (for Prometheus)."""
    return Response(exposition(), media_type=CONTENT_TYPE)
