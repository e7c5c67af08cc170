"""Prometheus metrics: requests by route, their duration, the projector's progress, and
the process and platform collectors.

One process (the tests, or `campledger serve` run some other way) keeps the figures in
``REGISTRY``. `campledger serve` runs the projector in a child process and, with
``--workers``, the API in several: it points ``PROMETHEUS_MULTIPROC_DIR`` at a folder of
its own before anything imports this module, every process writes its figures there, and
a scrape, whichever worker answers it, reads them all (``exposition``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.types import Message, Receive, Scope, Send

from campledger.api.http.asgi import HttpMiddleware

MULTIPROCESS_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

# The access log, at DEBUG: uvicorn's own would print each path and query string, where a
# person's registration number or name may be (a lookup, a search); this one prints the
# route template, as the metrics label it.
access_log = logging.getLogger("campledger.access")

# A registry of our own rather than the global default, so tests can build many apps.
REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "campledger_http_requests_total",
    "HTTP requests answered",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "campledger_http_request_duration_seconds",
    "HTTP request duration, from the first byte received to the last sent",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
# Set by the live projector after every batch and every idle wake-up (and by /health):
# with several processes, the most recent value written wins.
PROJECTION_LAG = Gauge(
    "campledger_projection_lag_events",
    "Head position of the event log minus the read model's checkpoint",
    ["read_model"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
PROJECTOR_HEARTBEAT = Gauge(
    "campledger_projector_heartbeat_timestamp_seconds",
    "When the live projector last checked the log (Unix time): a stale value means it "
    "has stopped, whatever the lag says",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
PROJECTED_EVENTS = Counter(
    "campledger_projected_events_total",
    "Events the live projector has applied to the read models",
    registry=REGISTRY,
)

if MULTIPROCESS_DIR not in os.environ:
    # The default registry has these; ours must be given them. In multiprocess mode they
    # describe the process answering the scrape (see ``exposition``).
    ProcessCollector(registry=REGISTRY)
    PlatformCollector(registry=REGISTRY)
    GCCollector(registry=REGISTRY)


def exposition() -> bytes:
    """The text a scrape gets: this process's registry, or every process's figures."""
    if MULTIPROCESS_DIR not in os.environ:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    # Memory, CPU and file descriptors of the process that answered: with --workers, one
    # worker or another (process_start_time_seconds tells them apart).
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return generate_latest(registry)


def observe_projector(head: int, checkpoints: Mapping[str, int], applied: int) -> None:
    """The live projector's report after a batch (``applied`` events) or an idle wake-up."""
    for name, checkpoint in checkpoints.items():
        PROJECTION_LAG.labels(read_model=name).set(max(head - checkpoint, 0))
    if applied:
        PROJECTED_EVENTS.inc(applied)
    PROJECTOR_HEARTBEAT.set_to_current_time()


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
            seconds = time.perf_counter() - started
            LATENCY.labels(scope["method"], route).observe(seconds)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            if access_log.isEnabledFor(logging.DEBUG):
                access_log.debug("%s %s %d %.1f ms", scope["method"], route, status, seconds * 1e3)
