"""Prometheus metrics: requests by route, latency, commands, projection lag."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A registry per process rather than the global default, so tests can build many apps.
REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "campledger_http_requests_total",
    "HTTP requests",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "campledger_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
PROJECTION_LAG = Gauge(
    "campledger_projection_lag_events",
    "Head position minus the read model's checkpoint",
    ["read_model"],
    registry=REGISTRY,
)


async def observe(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    # The route template, not the path: ids in paths would explode label cardinality.
    route = getattr(request.scope.get("route"), "path", "unmatched")
    LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    return response
