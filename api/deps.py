"""FastAPI dependencies: the application's parts, the caller, and read connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Header, Query, Request
from psycopg_pool import ConnectionPool

from api.auth import Permission, Principal, authenticate
from api.composition import Campledger
from api.problems import ApiProblem
from api.ratelimit import RateLimiter
from projections.engine import wait_for_position

# How long a read may wait for the read models to reach a client's own write.
MAX_WAIT_SECONDS = 5.0


def get_campledger(request: Request) -> Campledger:
    found: Campledger = request.app.state.campledger
    return found


def get_pool(request: Request) -> ConnectionPool[Any]:
    found: ConnectionPool[Any] = request.app.state.pool
    return found


Camp = Annotated[Campledger, Depends(get_campledger)]
Pool = Annotated[ConnectionPool[Any], Depends(get_pool)]


def get_principal(
    request: Request,
    pool: Pool,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    # RFC 7235: the scheme is case-insensitive ("bearer", "BEARER"), and one or more
    # spaces separate it from the token.
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorised("a bearer token is required")
    with pool.connection() as conn:
        principal = authenticate(conn, token)
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


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets through only callers whose role has this permission."""

    def check(principal: Caller) -> Principal:
        if not principal.can(permission):
            raise ApiProblem(
                403,
                "forbidden",
                "Forbidden",
                f"the {principal.role.value} role may not do this ({permission.value})",
            )
        return principal

    return check


def check_scope(principal: Principal, *site_codes: str | None) -> None:
    """Refuse a site-scoped caller acting on a site outside its scope (any one of the
    given sites suffices: a transfer belongs to both its ends)."""
    if not principal.covers_any(site_codes):
        raise ApiProblem(
            403, "out-of-scope", "Out of scope", "this token is not scoped to that site"
        )


def read_connection(
    pool: Pool,
    wait_for: Annotated[
        int | None,
        Query(ge=0, description="Wait (up to 5 s) until the read models reach this log position."),
    ] = None,
) -> Iterator[psycopg.Connection[Any]]:
    with pool.connection() as conn:
        if wait_for is not None and not wait_for_position(conn, wait_for, MAX_WAIT_SECONDS):
            problem = ApiProblem(
                503,
                "not-yet-projected",
                "Not yet projected",
                f"the read models have not reached position {wait_for} yet",
            )
            problem.headers["Retry-After"] = "1"
            raise problem
        yield conn


ReadConn = Annotated[psycopg.Connection[Any], Depends(read_connection)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat a command safely: the same key and body return the first result.",
    ),
]
