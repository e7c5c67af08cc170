"""The HTTP application: routers under /api/v1, one error mapping, one auth dependency.

``create_app`` is a factory (no module-global application): the caller hands it the
composed ``Backend`` (Registry + database URL) and says whether this process also
runs the live projector.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager, suppress
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from psycopg_pool import ConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campledger.api.composition import Backend, settle_start_up
from campledger.api.console.app import mount_console
from campledger.api.database.access_trail import create_access_trail
from campledger.api.database.accounts import create_account_tables
from campledger.api.http import metrics, openapi, operations, problems, ratelimit
from campledger.api.http.asgi import HttpMiddleware
from campledger.api.http.deps import check_parameters
from campledger.api.http.headers import SecurityHeaders
from campledger.api.http.request_id import RequestId
from campledger.api.http.routes import (
    arrivals,
    audit,
    duplicates,
    exports,
    health,
    holds,
    households,
    imports,
    persons,
    problem_pages,
    sites,
    sync,
    transfers,
)
from campledger.api.services.auth import ensure_tokens_table
from campledger.api.services.waiting import ProjectionWatch
from campledger.projections.engine import projector_thread

PREFIX = "/api/v1"
# A batch of 1,000 arrivals is about 400 kB of JSON; anything far beyond is not ours.
MAX_BODY_BYTES = 2 * 1024 * 1024
# The pool retries a lost connection with a doubling delay that has no cap: after a minute's
# database restart its next try could be a minute away, answering 503 all that time. Giving
# up early lets the next request open a fresh connection at once.
RECONNECT_SECONDS = 2.0


def create_app(backend: Backend, *, run_projector: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            pool_size = backend.api_pool_size
            pool: ConnectionPool[Any] = ConnectionPool(
                backend.conninfo, min_size=1, max_size=pool_size,
                kwargs={"autocommit": True}, open=True, timeout=5,
                reconnect_timeout=RECONNECT_SECONDS,
            )  # fmt: skip
            stack.callback(pool.close)
            with pool.connection() as conn:
                ensure_tokens_table(conn)
                create_access_trail(conn)
                create_account_tables(conn)
            projector = backend.projector()
            # A read model to rebuild is the projector's job: serving starts at once.
            projector.setup(rebuild_changed=False)
            projector.close()
            if run_projector:
                live = backend.projector()
                live.observer = metrics.observe_projector
                stack.enter_context(projector_thread(live))
            app.state.pool = pool
            # One connection is left to authentication, health and the access trail.
            app.state.read_slots = asyncio.Semaphore(max(pool_size - 1, 1))
            app.state.watch = watch = ProjectionWatch(
                backend.conninfo,
                projector.models,
                max_waiters=backend.settings.wait_for_max_waiters,
                max_waiters_per_caller=backend.settings.wait_for_max_per_token,
            )
            following = asyncio.create_task(watch.follow(), name="projection-watch")
            settle_start_up()
            try:
                yield
            finally:
                following.cancel()
                with suppress(asyncio.CancelledError):
                    await following

    app = _App(
        title="campledger",
        version="1",
        summary="Who arrived where, when, and where they went next.",
        description=(
            "Every command takes an `Idempotency-Key` header and returns the log `position` "
            "of its last event; reads accept `wait_for=<position>` to see their own writes. "
            "Errors are `application/problem+json` (RFC 9457) with a stable `type`, the "
            "relative reference `/problems/{code}`: this server's page for the problem."
        ),
        lifespan=lifespan,
        dependencies=[Depends(check_parameters)],
        generate_unique_id_function=operations.operation_id,
        responses={
            401: {"description": "No token, or an unknown or revoked one."},
            403: {"description": "The token's role or site scope does not allow this."},
            503: {"description": "Database unavailable, or read models not yet at wait_for."},
        },
    )
    app.state.backend = backend
    app.state.rate_limiter = ratelimit.from_settings(
        backend.settings.rate_limit_per_second, backend.settings.rate_limit_burst
    )
    problems.install(app)
    openapi.install(app)
    app.add_middleware(metrics.Observe)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)

    api = APIRouter(prefix=PREFIX)
    # exports before sites: "/sites/occupancy.hxl.csv" is not the site "occupancy.hxl.csv".
    for module in (
        exports,
        imports,
        sites,
        arrivals,
        persons,
        transfers,
        holds,
        households,
        duplicates,
        audit,
        health,
    ):
        api.include_router(module.router)
    api.include_router(sync.router)
    app.include_router(api)
    app.include_router(health.router)  # /health and /metrics at the root too, for probes
    app.include_router(health.probes)  # /livez and /readyz
    app.include_router(problem_pages.router)  # where a problem's type points
    # The web console at /, last: every path of the API above stays the API's.
    mount_console(app, backend.settings)
    return app


class _App(FastAPI):
    """FastAPI with ``SecurityHeaders`` and ``RequestId`` outside everything, Starlette's
    error middleware included, so that a 500 from an unexpected exception carries the
    headers too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(RequestId(super().build_middleware_stack()))


class BodyLimit(HttpMiddleware):
    """Refuse request bodies over a size limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        seen = 0
        too_large = False
        started = False

        async def limited() -> Message:
            nonlocal seen, too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                too_large = True
                raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            # FastAPI turns any error while reading the body into its own 400; when the
            # cause was our limit, that answer is dropped and the 413 below sent instead.
            if too_large and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with suppress(_TooLarge):
            await self.app(scope, limited, guarded)
        if too_large and not started:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        response = problems.problem_response(
            413, "payload-too-large", "Payload too large",
            f"request bodies are limited to {self.max_bytes} bytes",
        )  # fmt: skip
        await response({"type": "http"}, _nothing, send)


class _TooLarge(Exception):
    pass


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
