"""The ceiling for a single registration over HTTP on this machine: the least a FastAPI
server can do for POST /api/v1/arrivals and still be said to register someone.

It validates the body with campledger's own pydantic model (``SingleArrivalCreate``: the
same fields, limits and unstorable-text rule), then writes one event row and one unique
claim on the registration number in a single statement (autocommit: one round trip, one
commit), from a psycopg pool, and answers 201 with the person's id and the event's
position, encoded with orjson. One uvicorn worker on httptools and uvloop, as
``campledger serve`` runs by default, and a plain ``def`` endpoint run in the thread pool
on a pooled blocking connection, as campledger's routes are; ``--no-blocking`` makes it an
``async def`` endpoint on an asyncio pool instead, for reference (several times faster on
this machine: no thread hand-offs).

What it leaves out is what campledger adds: the token, idempotency, the domain's rules,
per-person encryption, the table lock that keeps commit order equal to log order, the
audit and metrics middleware, and the projector. ``bench.http_registration`` drives both
with the same client in the same run; campledger's rate over this one's is the figure the
issue sets a target on.

It also serves the roster's baseline: ``GET /api/v1/sites/{code}/roster``, a page of a
site's people in name order by keyset from a plain indexed table, which
``POST /bench/roster`` fills in one statement.

    python -m bench.minimal_app --port 8001 --database-url postgresql://…
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from uuid import UUID, uuid4

import orjson
import psycopg
import typer
import uvicorn
from fastapi import FastAPI, Response
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from campledger.api.schemas import SingleArrivalCreate

TOPIC = "bench.minimal:Registered"
SCOPE = "registration_number"
# As many connections as campledger's API may open by default (pool 5 + overflow 10).
POOL_SIZE = 15

TABLES = """
CREATE TABLE IF NOT EXISTS minimal_events (
    notification_id bigserial PRIMARY KEY,
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    UNIQUE (originator_id, originator_version)
);
CREATE TABLE IF NOT EXISTS minimal_claims (
    scope text NOT NULL,
    value text NOT NULL,
    owner_id uuid NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE TABLE IF NOT EXISTS minimal_roster (
    site_code text NOT NULL,
    family_name text NOT NULL,
    given_name text NOT NULL,
    person_id uuid NOT NULL,
    registration_number text NOT NULL,
    sex text NOT NULL,
    date_of_birth date,
    PRIMARY KEY (site_code, family_name, given_name, person_id)
);
"""

# The roster baseline: a site's people in name order, a page at a time by keyset, from a
# plain table with the index the order needs; no token, no scope check, no access trail,
# no name folding, no as-of.
FILL_ROSTER = """
INSERT INTO minimal_roster
SELECT %(site)s, (ARRAY['Haroun','Abakar','Idriss','Yousif','Mahamat','Adoum'])[1 + i %% 6],
       (ARRAY['Amina','Mohammed','Fatima','Ahmed','Hawa','Moussa','Achta'])[1 + i %% 7],
       gen_random_uuid(), 'RST-' || i, CASE WHEN i %% 2 = 0 THEN 'female' ELSE 'male' END,
       date '1950-01-01' + (i %% 25000)
FROM generate_series(1, %(people)s) AS i
"""
ROSTER_PAGE = """
SELECT person_id, registration_number, given_name, family_name, sex, date_of_birth
FROM minimal_roster
WHERE site_code = %(site)s AND (%(family)s::text IS NULL
      OR (family_name, given_name, person_id) > (%(family)s, %(given)s, %(person)s))
ORDER BY family_name, given_name, person_id
LIMIT %(limit)s
"""

# The claim and the event in one statement: no claim, no event (a taken number is a
# unique violation, and nothing is written).
REGISTER = """
WITH claim AS (
    INSERT INTO minimal_claims (scope, value, owner_id) VALUES (%s, %s, %s)
    RETURNING owner_id
)
INSERT INTO minimal_events (originator_id, originator_version, topic, state)
SELECT owner_id, 1, %s, %s FROM claim
RETURNING notification_id
"""

TAKEN = orjson.dumps(
    {"type": "/problems/duplicate-registration-number", "title": "Already registered"}
)


def create_app(conninfo: str, pool_size: int = POOL_SIZE, *, blocking: bool = True) -> FastAPI:
    """The app; ``blocking``: a plain ``def`` endpoint on a thread-pool connection, as
    campledger's routes run (the ceiling the issue measured), else an ``async def`` one on
    an asyncio pool, for reference."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        options: dict[str, Any] = {"min_size": pool_size, "max_size": pool_size, "open": False}
        options["kwargs"] = {"autocommit": True}
        if blocking:
            with ConnectionPool(conninfo, **options) as pool:
                with pool.connection() as conn:
                    conn.execute(TABLES)
                app.state.pool = pool
                yield
        else:
            async with AsyncConnectionPool(conninfo, **options) as apool:
                async with apool.connection() as aconn:
                    await aconn.execute(TABLES)
                app.state.pool = apool
                yield

    app = FastAPI(title="campledger's HTTP ceiling", lifespan=lifespan, openapi_url=None)

    def answer(person_id: UUID, row: tuple[Any, ...] | None) -> Response:
        body = {"person_id": str(person_id), "position": row[0] if row else 0, "replayed": False}
        return Response(orjson.dumps(body), status_code=201, media_type="application/json")

    def taken() -> Response:
        return Response(TAKEN, status_code=409, media_type="application/problem+json")

    if blocking:

        @app.post("/api/v1/arrivals", status_code=201)
        def register_arrival(body: SingleArrivalCreate) -> Response:
            person_id, state = uuid4(), orjson.dumps(body.model_dump(mode="json"))
            pool: ConnectionPool[Any] = app.state.pool
            with pool.connection() as conn:
                try:
                    cursor = conn.execute(REGISTER, values(body, person_id, state), prepare=True)
                except psycopg.errors.UniqueViolation:
                    return taken()
                return answer(person_id, cursor.fetchone())

    else:

        @app.post("/api/v1/arrivals", status_code=201)
        async def register_arrival_async(body: SingleArrivalCreate) -> Response:
            person_id, state = uuid4(), orjson.dumps(body.model_dump(mode="json"))
            apool: AsyncConnectionPool[Any] = app.state.pool
            async with apool.connection() as aconn:
                try:
                    cursor = await aconn.execute(
                        REGISTER, values(body, person_id, state), prepare=True
                    )
                except psycopg.errors.UniqueViolation:
                    return taken()
                return answer(person_id, await cursor.fetchone())

    @app.post("/bench/roster", status_code=204)
    def fill_roster(site: str, people: int) -> Response:
        """The roster baseline's site, filled in one statement (the benchmark's setup)."""
        with app.state.pool.connection() as conn:
            conn.execute(FILL_ROSTER, {"site": site, "people": people})
            conn.execute("ANALYZE minimal_roster")
        return Response(status_code=204)

    @app.get("/api/v1/sites/{code}/roster")
    def roster_page(code: str, limit: int = 100, cursor: str | None = None) -> Response:
        after = orjson.loads(base64.urlsafe_b64decode(cursor)) if cursor else [None] * 3
        params = {"site": code, "family": after[0], "given": after[1], "person": after[2]}
        with app.state.pool.connection() as conn:
            rows = conn.execute(ROSTER_PAGE, {**params, "limit": limit + 1}, prepare=True)
            found = rows.fetchall()
        items = [
            {"person_id": str(r[0]), "registration_number": r[1], "given_name": r[2],
             "family_name": r[3], "sex": r[4], "date_of_birth": r[5]}
            for r in found[:limit]
        ]  # fmt: skip
        last = found[limit - 1] if len(found) > limit else None
        following = (
            base64.urlsafe_b64encode(orjson.dumps([last[3], last[2], str(last[0])])).decode()
            if last is not None
            else None
        )
        body = orjson.dumps({"items": items, "next_cursor": following})
        return Response(body, media_type="application/json")

    @app.get("/health")
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app


def values(body: SingleArrivalCreate, person_id: UUID, state: bytes) -> tuple[Any, ...]:
    return (SCOPE, body.registration_number, person_id, TOPIC, state)


def main(
    database_url: Annotated[str, typer.Option(help="Where to write (a database of its own).")],
    port: Annotated[int, typer.Option()] = 8001,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    pool_size: Annotated[int, typer.Option(help="Pooled connections.")] = POOL_SIZE,
    blocking: Annotated[
        bool, typer.Option(help="A def endpoint in the thread pool, as campledger's routes.")
    ] = True,
) -> None:
    uvicorn.run(
        create_app(database_url, pool_size, blocking=blocking), host=host, port=port, workers=1,
        http="httptools", loop="uvloop", access_log=False, log_level="warning",
    )  # fmt: skip


if __name__ == "__main__":
    typer.run(main)
