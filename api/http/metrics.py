"""Prometheus metrics: requests by route, latency, commands, projection lag."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import Message, Receive, Scope, Send

from campledger.api.http.asgi import HttpMiddleware

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


class Observe(HttpMiddleware):
    """Count and time every request by method, route template and status."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # The route template, not the path: ids in paths would explode label cardinality.
            route = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
