"""Two requests with the same Idempotency-Key at the same moment: one write, one answer.

A client that times out and retries at once, or a proxy that duplicates a request, sends
the same command twice while the first is still being decided. Whichever wins, the log
gets the command once. A copy that arrives while the first is being applied is told so
at once (409 ``idempotency-key-in-flight``, with Retry-After) rather than left waiting;
sent again, or arriving after the first was saved, it learns the same result: the same
status, ids and log position, flagged ``"replayed": true`` and ``Idempotent-Replayed``.

Each round fires, through the real server, pairs of identical requests behind a barrier:
opening a site, registering an arrival (which claims a registration number) and holding a
person. Each of them is refused by its own rules once the first copy is saved (the code
exists, the number is claimed, the person is already held), so a copy that looks up its
key before the first is saved and decides after must still answer as a replay.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import psycopg

from campledger.domain.model.site import site_id
from tests.reliability.support import (
    Figures,
    Sent,
    Server,
    Token,
    arrival,
    make_token,
    send,
    soak_seconds,
)

ROUNDS = 25
PAIRS_PER_ROUND = 3  # open a site, register an arrival, hold a person


def events_of(conn: psycopg.Connection[Any], aggregate: UUID) -> list[str]:
    rows = conn.execute(
        "SELECT topic FROM registry_events WHERE originator_id = %s ORDER BY originator_version",
        (aggregate,),
    ).fetchall()
    return [str(row[0]).rsplit(".", 1)[-1] for row in rows]


IN_FLIGHT = "/problems/idempotency-key-in-flight"


def same_answer(a: Sent, b: Sent) -> str | None:
    """Why two answers to one request differ beyond marking the replay, or None."""
    first, copy = sorted((a, b), key=lambda s: s.body.get("replayed", True))
    if not a.accepted or not b.accepted:
        return f"not both accepted: {a.status} {a.body}; {b.status} {b.body}"
    if first.status not in (200, 201) or first.body.get("replayed") is not False:
        return f"no original answer: {a.status} {a.body}; {b.status} {b.body}"
    if (copy.status, copy.body.get("replayed")) != (first.status, True):
        return f"the copy is not a replay: {copy.status} {copy.body}"
    if {**first.body, "replayed": True} != copy.body:
        return f"bodies differ: {first.body} != {copy.body}"
    return None


def test_two_requests_with_one_key_at_once_write_once_and_answer_alike(
    server: Server, database_url: str, figures: Figures
) -> None:
    token: Token = make_token(database_url)
    at = datetime.now(UTC) - timedelta(hours=1)
    local = threading.local()
    clients: list[httpx.Client] = []

    def client() -> httpx.Client:
        found: httpx.Client | None = getattr(local, "client", None)
        if found is None:
            found = local.client = server.client(token)
            clients.append(found)
        return found

    with server.client(token) as setup:
        opened = send(
            setup,
            "open_site",
            code="RC-1",
            name="Reception",
            kind="reception",
            capacity=100_000,
            occurred_at=at,
        )
        assert opened.status == 201, opened.body
        rounds = max(ROUNDS, int(soak_seconds(0) * 5))
        batch = [arrival(at) for _ in range(rounds)]
        registered = send(setup, "register_arrivals", site_code="RC-1", arrivals=batch)
        assert registered.status == 201, registered.body
        to_hold = [UUID(p) for p in registered.body["person_ids"]]

    barrier = threading.Barrier(2 * PAIRS_PER_ROUND)

    def twice(command: str, **kwargs: Any) -> list[Callable[[], Sent]]:
        key = f"race-{uuid.uuid4().hex}"

        def fire() -> Sent:
            barrier.wait(timeout=30)
            return send(client(), command, idempotency_key=key, **kwargs)

        return [fire, fire]

    pairs = in_flight = 0
    with (
        ThreadPoolExecutor(max_workers=2 * PAIRS_PER_ROUND) as pool,
        psycopg.connect(database_url) as conn,
    ):
        for number in range(rounds):
            code = f"SITE-{number}"
            person = arrival(at)
            calls = [
                *twice("open_site", code=code, name=code, kind="camp", capacity=10, occurred_at=at),
                *twice("register_arrival", site_code="RC-1", arrival=person),
                *twice(
                    "hold_person",
                    person_id=to_hold[number],
                    reason="interview",
                    authority="Security committee",
                    order_reference=f"ORD-{number}",
                    occurred_at=at,
                ),
            ]
            answers = list(pool.map(lambda call: call(), calls))
            for index, name in enumerate(("open_site", "register_arrival", "hold_person")):
                a, b = answers[2 * index], answers[2 * index + 1]
                if IN_FLIGHT in (a.problem, b.problem):
                    # Told the first was still being applied: sent again, it replays.
                    told, other = (a, b) if a.problem == IN_FLIGHT else (b, a)
                    assert told.status == 409 and other.accepted, (told.body, other.body)
                    in_flight += 1
                    resent = send(client(), told.command, idempotency_key=told.key, **told.kwargs)
                    a, b = other, resent
                differs = same_answer(a, b)
                assert differs is None, f"round {number}, {name}: {differs}"
                pairs += 1

            assert events_of(conn, site_id(code)) == ["Opened"], f"round {number}: site"
            registered = next(a for a in answers[2:4] if a.accepted)
            person_id = UUID(registered.body["person_id"])
            assert person_id == person.person_id
            assert events_of(conn, person_id) == ["Registered"], f"round {number}: arrival"
            held = events_of(conn, to_hold[number])
            assert held == ["Registered", "Held"], f"round {number}: hold wrote {held}"
            conn.commit()

    for each in clients:
        each.close()
    figures.record("idempotency race", pairs_raced=pairs, copies_in_flight=in_flight, rounds=rounds)
