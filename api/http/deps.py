"""FastAPI dependencies: the application's parts, the caller, and read connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Query, Request, Security
from fastapi._compat import field_annotation_is_sequence
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from campledger.api.composition import Backend
from campledger.api.http.ratelimit import RateLimiter
from campledger.api.schemas import UNSTORABLE_ERROR
from campledger.api.services.access import check_permission
from campledger.api.services.auth import Permission, Principal, authenticate
from campledger.api.services.problems import ApiProblem
from campledger.api.services.waiting import ProjectionWatch, TooManyWaiters
from campledger.domain.model.values import unstorable_text
from campledger.projections.event_log import head_position, reached_position

# How long a read may wait for the read models to reach a client's own write.
MAX_WAIT_SECONDS = 5.0
# How long a read may queue for a pooled connection before it is answered 503 (busy).
POOL_WAIT_SECONDS = 5.0


# The dependencies that neither block nor wait are coroutines: FastAPI runs a plain
# ``def`` dependency in its thread pool, and each such hop costs a request more CPU than
# the dependency itself (a registration went through six of them).


async def get_backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


async def get_pool(request: Request) -> ConnectionPool[Any]:
    found: ConnectionPool[Any] = request.app.state.pool
    return found


BackendDep = Annotated[Backend, Depends(get_backend)]
Pool = Annotated[ConnectionPool[Any], Depends(get_pool)]


# The validation error type of a scalar query parameter given more than once.
REPEATED_PARAMETER = "repeated_parameter"


async def check_parameters(request: Request) -> None:
    """Refuse, on every route, a query parameter that takes one value given more than
    once, and text the database cannot hold (a NUL) in a query or path parameter.

    FastAPI would take the last of ``?dry_run=false&dry_run=true`` and drop the others
    unread: a client whose URL builder repeats a parameter would see an import written, or
    a filter applied, that it did not mean. A NUL is refused by PostgreSQL where a value
    reaches it, but a value read in Python first (a name search, turned into sound keys)
    would lose it unseen: the domain's rule (``unstorable_text``) is applied here to every
    parameter alike, as the document's ``^[^\\u0000]*$`` says.

    Installed on the whole app, so it runs before the token is looked at, as for a body
    that is not JSON: the request is malformed whoever sends it.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    found: list[dict[str, Any]] = []
    for name, takes_many in _query_parameters(route):
        values = request.query_params.getlist(name)
        if len(values) > 1 and not takes_many:
            found.append(
                {
                    "type": REPEATED_PARAMETER,
                    "loc": ("query", name),
                    "msg": "must be given once: this parameter takes one value, not a list",
                }
            )
        found.extend(_unstorable(("query", name), value) for value in values)
    for name, value in request.path_params.items():
        if isinstance(value, str):
            found.append(_unstorable(("path", name), value))
    errors = [error for error in found if error]
    if errors:
        raise RequestValidationError(errors)


def _unstorable(loc: tuple[str, str], value: str) -> dict[str, Any]:
    reason = unstorable_text(value)
    return {"type": UNSTORABLE_ERROR, "loc": loc, "msg": reason} if reason else {}


def _query_parameters(route: APIRoute) -> list[tuple[str, bool]]:
    """The query parameters a route (its dependencies included) takes, and whether each
    takes a list.

    FastAPI reads a parameter with ``getlist`` where its annotation is a sequence and with
    ``get`` (the last value) otherwise; the same test decides here, so the two cannot
    differ. A model of query parameters (``Annotated[AuditQuery, Query()]``) stands for
    its fields.
    """
    found: dict[str, bool] = {}
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        for field in dependant.query_params:
            kind = field.field_info.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                fields = [(f.alias or n, f.annotation) for n, f in kind.model_fields.items()]
            else:
                fields = [(field.alias, kind)]
            found.update((n, field_annotation_is_sequence(k)) for n, k in fields)
    return list(found.items())


# The name the document gives the scheme (components.securitySchemes, each operation's
# ``security``): Swagger UI's Authorize button and generated clients send the token from it.
BEARER_SCHEME = "bearer"
# It reads the header as RFC 7235 says (the scheme in any case, spaces before the token);
# auto_error off, so that a missing or malformed header gets our own 401 problem, not
# FastAPI's 403 with its own body.
_BEARER = HTTPBearer(
    scheme_name=BEARER_SCHEME,
    description="An API token (`campledger token create`, or the console's API tokens page).",
    auto_error=False,
)


def get_principal(
    request: Request,
    pool: Pool,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> Principal:
    if credentials is None:
        raise _unauthorised("a bearer token is required")
    with pool.connection() as conn:
        principal = authenticate(conn, credentials.credentials)
    if principal is None:
        raise _unauthorised("the token is unknown or revoked")
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        limiter.check(principal.token_id)
    request.state.principal = principal
    return principal


def _unauthorised(detail: str) -> ApiProblem:
    problem = ApiProblem(401, "unauthorised", "Unauthorised", detail)
    problem.headers["WWW-Authenticate"] = 'Bearer realm="campledger"'
    return problem


Caller = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only callers whose role has this permission."""

    async def check(principal: Caller) -> Principal:
        check_permission(principal, permission)
        return principal

    return check


async def projected(
    request: Request,
    pool: Pool,
    caller: Caller,
    wait_for: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**63 - 1,
            description=(
                "Wait (up to 5 s) until the read models reach this log position, as returned "
                "by a command. A position beyond the head of the log is refused at once (422)."
            ),
        ),
    ] = None,
) -> None:
    """Hold the read until the read models have applied the caller's own write, without
    holding a connection or a thread while it waits (api/waiting.py)."""
    if wait_for is None:
        return
    watch: ProjectionWatch = request.app.state.watch
    if watch.reached >= wait_for:
        return
    head, reached = await run_in_threadpool(_head_and_reached, pool)
    if wait_for > head:
        problem = ApiProblem(
            422,
            "position-beyond-head",
            "Position beyond the head of the log",
            f"wait_for={wait_for} is beyond the last position written ({head}): pass the "
            "position a command returned",
            head=head,
        )
        raise problem
    if reached >= wait_for:
        return
    try:
        arrived = await watch.wait(wait_for, caller.token_id, MAX_WAIT_SECONDS)
    except TooManyWaiters as error:
        problem = ApiProblem(
            429,
            "too-many-waiters",
            "Too many reads waiting",
            f"at most {error.limit} reads with wait_for may wait at once per {error.scope}; "
            "retry shortly",
        )
        problem.headers["Retry-After"] = "1"
        raise problem from None
    if not arrived:
        problem = ApiProblem(
            503,
            "not-yet-projected",
            "Not yet projected",
            f"the read models have not reached position {wait_for} yet",
        )
        problem.headers["Retry-After"] = "1"
        raise problem


def _head_and_reached(pool: ConnectionPool[Any]) -> tuple[int, int]:
    # Read at the request, not taken from the watch: the caller's write may have committed
    # a moment before the watch heard of it.
    with pool.connection() as conn:
        return head_position(conn), reached_position(conn)


async def read_connection(
    _: Annotated[None, Depends(projected)], request: Request, pool: Pool
) -> AsyncIterator[psycopg.Connection[Any]]:
    """A pooled connection for the read, taken only once one is free.

    Requests queue for a connection on the event loop, not in worker threads: a thread
    blocked in the pool while the requests holding every connection wait for a thread
    to run on deadlocked the server under a burst of reads (40 threads, 10 connections)
    until the pool's timeout answered them all 503.
    """
    slots: asyncio.Semaphore = request.app.state.read_slots
    try:
        await asyncio.wait_for(slots.acquire(), POOL_WAIT_SECONDS)
    except TimeoutError:
        raise _busy() from None
    try:
        conn = await run_in_threadpool(pool.getconn, POOL_WAIT_SECONDS)
        try:
            yield conn
        finally:
            await run_in_threadpool(pool.putconn, conn)
    finally:
        slots.release()


def _busy() -> ApiProblem:
    problem = ApiProblem(
        503,
        "server-busy",
        "Server busy",
        "every database connection of this server is in use; retry shortly",
    )
    problem.headers["Retry-After"] = "1"
    return problem


ReadConn = Annotated[psycopg.Connection[Any], Depends(read_connection)]
