"""No lost writes: 50 clients at once, and every acknowledged command is in the log.

Clients register (one at a time and in batches), screen and plan transfers for a bounded
time; a few of their commands are refused on purpose (duplicate registration numbers,
a person already on a manifest). Afterwards every acknowledged command's events are in
the log at the position it was given, no refused command left a trace, and the read
models equal a rebuild from the log.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.reliability.support import (
    Figures,
    Sent,
    Server,
    Token,
    arrival,
    assert_read_models_equal_rebuild,
    log_count,
    log_head,
    make_token,
    registered_persons,
    send,
    soak_seconds,
    soaking,
)

CLIENTS = 50
SITES = ("RC-1", "CAMP-1")
# Refused on purpose, and the answers that says so; anything else refused is a failure,
# except 503 (the server shedding load), which must leave no trace either.
REFUSALS = {409, 422, 503}


@dataclass
class Client:
    """One field device: what it sent, and the persons it knows to be registered."""

    number: int
    server: Server
    token: Token
    registered_at: datetime
    acted_at: datetime
    deadline: float
    sent: list[Sent] = field(default_factory=list)
    persons: list[UUID] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    free: list[UUID] = field(default_factory=list)  # registered and on no manifest
    planned: list[UUID] = field(default_factory=list)

    def run(self) -> None:
        rng = random.Random(self.number)
        with self.server.client(self.token, timeout=60) as http:
            while time.monotonic() < self.deadline:
                self.step(http, rng)

    def command(self, http: Any, command: str, **kwargs: Any) -> Sent:
        sent = send(http, command, idempotency_key=uuid.uuid4().hex, **kwargs)
        self.sent.append(sent)
        return sent

    def step(self, http: Any, rng: random.Random) -> None:
        roll = rng.random()
        at = self.acted_at
        if roll < 0.35 or not self.persons:
            self.register(http, [arrival(self.registered_at)])
        elif roll < 0.50:
            self.register(http, [arrival(self.registered_at) for _ in range(rng.randint(10, 100))])
        elif roll < 0.53:
            # A batch carrying one number already taken: refused whole.
            batch = [arrival(self.registered_at) for _ in range(rng.randint(5, 50))]
            batch[-1] = replace(batch[-1], registration_number=rng.choice(self.numbers))
            self.register(http, batch)
        elif roll < 0.56:
            self.register(
                http, [arrival(self.registered_at, registration_number=rng.choice(self.numbers))]
            )
        elif roll < 0.81:
            self.command(
                http, "record_screening_step", person_id=rng.choice(self.persons),
                step=rng.choice(("identity", "medical", "vulnerability")),
                outcome=rng.choice(("cleared", "referred")), reason="", occurred_at=at,
            )  # fmt: skip
        elif roll < 0.96 and self.free:
            manifest = [self.free.pop() for _ in range(min(len(self.free), rng.randint(1, 5)))]
            sent = self.command(
                http, "plan_transfer", origin="RC-1", destination="CAMP-1",
                manifest=manifest, occurred_at=at,
            )  # fmt: skip
            (self.planned if sent.accepted else self.free).extend(manifest)
        elif self.planned and self.free:
            # One person already on a manifest: refused whole, the free one stays free.
            manifest = [self.free[-1], rng.choice(self.planned)]
            self.command(
                http, "plan_transfer", origin="RC-1", destination="CAMP-1",
                manifest=manifest, occurred_at=at,
            )  # fmt: skip

    def register(self, http: Any, arrivals: list[Any]) -> None:
        if len(arrivals) == 1:
            sent = self.command(http, "register_arrival", site_code="RC-1", arrival=arrivals[0])
        else:
            sent = self.command(http, "register_arrivals", site_code="RC-1", arrivals=arrivals)
        if sent.accepted:
            ids = [a.person_id for a in arrivals]
            self.persons.extend(ids)
            self.free.extend(ids)
            self.numbers.extend(a.registration_number for a in arrivals)


def arrivals_of(sent: Sent) -> list[Any]:
    if sent.command == "register_arrival":
        return [sent.kwargs["arrival"]]
    if sent.command == "register_arrivals":
        return list(sent.kwargs["arrivals"])
    return []


def events_expected(sent: Sent) -> int:
    """How many events an accepted command writes."""
    if sent.command.startswith("register_"):
        return len(arrivals_of(sent))
    if sent.command == "plan_transfer":
        return 1 + len(sent.kwargs["manifest"])
    return 1


def topic_counts(conn: psycopg.Connection[Any]) -> Counter[str]:
    rows = conn.execute("SELECT topic, count(*) FROM registry_events GROUP BY topic").fetchall()
    return Counter({topic.rsplit(".", 1)[-1]: int(n) for topic, n in rows})


def commands_recorded(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute("SELECT key, position FROM registry_events_commands").fetchall()
    return {key: int(position) for key, position in rows}


@pytest.fixture
def opened(server: Server, database_url: str) -> Iterator[Token]:
    token = make_token(database_url)
    with server.client(token) as http:
        for code in SITES:
            sent = send(
                http, "open_site", code=code, name=f"Site {code}",
                kind="reception" if code.startswith("RC") else "camp", capacity=1_000_000,
                occurred_at=datetime.now(UTC) - timedelta(days=1),
            )  # fmt: skip
            assert sent.status == 201, sent.body
    yield token


def test_every_acknowledged_command_is_in_the_log_and_no_refused_one(
    server: Server, database_url: str, opened: Token, figures: Figures
) -> None:
    now = datetime.now(UTC)
    seconds = soak_seconds(10.0)
    deadline = time.monotonic() + seconds
    clients = [
        Client(n, server, opened, now - timedelta(hours=2), now - timedelta(hours=1), deadline)
        for n in range(CLIENTS)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(Client.run, clients))
    elapsed = time.perf_counter() - started
    sent = [s for c in clients for s in c.sent]
    accepted = [s for s in sent if s.accepted]
    refused = [s for s in sent if not s.accepted]

    unexpected = [s for s in refused if s.status not in REFUSALS]
    assert not unexpected, [(s.command, s.status, s.body) for s in unexpected[:5]]
    assert accepted, "the server acknowledged nothing"

    with psycopg.connect(database_url, autocommit=True) as conn:
        # Each acknowledged command is recorded once, at the position it was told.
        recorded = commands_recorded(conn)
        for s in accepted:
            assert recorded.get(s.key) == s.position, (s.command, s.key, s.body)
        for s in refused:
            assert s.key not in recorded, f"refused {s.command} ({s.status}) was recorded"
        # Registrations: every acknowledged person is there, no refused one is.
        acked_ids = [a.person_id for s in accepted for a in arrivals_of(s)]
        refused_ids = [a.person_id for s in refused for a in arrivals_of(s)]
        assert registered_persons(conn, acked_ids) == len(acked_ids)
        assert registered_persons(conn, refused_ids) == 0
        # Nothing else in the log: the events are exactly those of the accepted commands.
        counts = topic_counts(conn)
        by_command = Counter[str]()
        for s in accepted:
            by_command[s.command] += events_expected(s)
        assert counts["Registered"] == len(acked_ids)
        assert counts["ScreeningStepRecorded"] == by_command["record_screening_step"]
        assert counts["Planned"] + counts["PlacedOnManifest"] == by_command["plan_transfer"]
        assert log_count(conn) == len(SITES) + sum(by_command.values())
        head = log_head(conn)

    rows = assert_read_models_equal_rebuild(database_url)
    with server.client(opened) as http:
        occupancy = http.get("/sites/RC-1/occupancy", params={"wait_for": head}).json()
    assert occupancy["total"] == len(acked_ids), occupancy

    statuses = Counter(s.status for s in refused)
    figures.record(
        "no lost writes" + (" (soak)" if soaking() else ""),
        clients=CLIENTS,
        seconds=elapsed,
        requests=len(sent),
        per_second=len(sent) / elapsed,
        acknowledged=len(accepted),
        refused_409=statuses[409],
        refused_422=statuses[422],
        shed_503=statuses[503],
        persons_registered=len(acked_ids),
        events_checked=sum(counts.values()),
        read_model_rows_compared=rows,
        slowest_ms=max(s.seconds for s in sent) * 1000,
    )
