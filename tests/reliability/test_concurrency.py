"""Concurrency: clients racing on the same persons through the real server.

Of two commands that the rules say cannot both happen (two manifests sharing a person,
a departure and a transfer, two holds, two changes at the same If-Match version),
exactly one is accepted and the other gets 409 with a conflict or rule problem type; of
two changes at the same If-Match version, the loser gets 412 ``precondition-failed`` when
it read the person after the winner's change was saved, and 409 ``concurrent-change`` when
both read it before (the store refuses the second save).
Whatever the interleaving, the log holds what a serial replay of the accepted commands,
in log order, produces; and no person is ever on two transfers at once.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import psycopg

from campledger.api.database import library_env
from campledger.domain.model.person import Person
from campledger.domain.model.transfer import Transfer
from campledger.domain.service.registry import Registry
from tests.reliability.support import (
    CONFLICT_TYPES,
    Figures,
    Sent,
    Server,
    Token,
    arrival,
    make_token,
    replay,
    send,
    soak_seconds,
    soaking,
)

SITES = ("RC-1", "CAMP-1", "CAMP-2")
# Holds are made on an authority's order (the API requires both).
ORDER = {"authority": "Security committee", "order_reference": "SC-2026-001"}
RACERS = 10  # requests fired at once in each round of pairs
CLIENTS = 8  # threads in the free-for-all
POOL = 30  # persons everyone fights over in the free-for-all


@dataclass
class Session:
    """Every command the test sent, from every thread, with what the server answered."""

    server: Server
    token: Token
    registered_at: datetime
    acted_at: datetime
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    def client(self) -> httpx.Client:
        found: httpx.Client | None = getattr(self.local, "client", None)
        if found is None:
            found = self.local.client = self.server.client(self.token)
        return found

    def send(self, command: str, **kwargs: Any) -> Sent:
        sent = send(self.client(), command, **kwargs)
        with self.lock:
            self.sent.append(sent)
        return sent

    @property
    def accepted(self) -> list[Sent]:
        return sorted((s for s in self.sent if s.accepted), key=lambda s: s.position)


def setup(session: Session, persons: int) -> list[UUID]:
    for code in SITES:
        kind = "reception" if code.startswith("RC") else "camp"
        opened = session.send(
            "open_site", code=code, name=f"Site {code}", kind=kind, capacity=100_000,
            occurred_at=session.registered_at - timedelta(hours=1),
        )  # fmt: skip
        assert opened.status == 201, opened.body
    ids: list[UUID] = []
    while len(ids) < persons:
        batch = [arrival(session.registered_at) for _ in range(min(1_000, persons - len(ids)))]
        done = session.send("register_arrivals", site_code="RC-1", arrivals=batch)
        assert done.status == 201, done.body
        ids.extend(UUID(p) for p in done.body["person_ids"])
    return ids


# --- pairs that the rules say cannot both happen ----------------------------------------------


@dataclass
class Pair:
    name: str
    first: Callable[[], Sent]
    second: Callable[[], Sent]


def round_of_pairs(session: Session, p: Sequence[UUID]) -> list[Pair]:
    """Five conflicting pairs on eight fresh persons; no person is in two pairs."""
    at = session.acted_at

    def cmd(command: str, **kwargs: Any) -> Callable[[], Sent]:
        return lambda: session.send(command, occurred_at=at, **kwargs)

    return [
        Pair(
            "overlapping manifests",
            cmd("plan_transfer", origin="RC-1", destination="CAMP-1", manifest=[p[0], p[1]]),
            cmd("plan_transfer", origin="RC-1", destination="CAMP-2", manifest=[p[1], p[2]]),
        ),
        Pair(
            "departure and transfer",
            cmd("record_departure", person_id=p[3], reason="resettled"),
            cmd("plan_transfer", origin="RC-1", destination="CAMP-1", manifest=[p[3], p[4]]),
        ),
        Pair(
            "two holds",
            cmd("hold_person", person_id=p[5], reason="interview", **ORDER),
            cmd("hold_person", person_id=p[5], reason="interview", **ORDER),
        ),
        Pair(
            "two departures",
            cmd("record_departure", person_id=p[6], reason="returned"),
            cmd("record_departure", person_id=p[6], reason="resettled"),
        ),
        Pair(
            "same If-Match version",
            cmd(
                "record_screening_step",
                person_id=p[7],
                step="medical",
                outcome="cleared",
                reason="",
                expected_version=1,
            ),
            cmd("hold_person", person_id=p[7], reason="interview", **ORDER, expected_version=1),
        ),
    ]


def race_pairs(session: Session, persons: list[UUID], rounds: int) -> Counter[str]:
    """Fire each round's ten requests at once; check every pair had one winner."""
    barrier = threading.Barrier(RACERS)
    outcomes: Counter[str] = Counter()

    def fire(call: Callable[[], Sent]) -> Sent:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        for number in range(rounds):
            pairs = round_of_pairs(session, persons[number * 8 : number * 8 + 8])
            calls = [c for pair in pairs for c in (pair.first, pair.second)]
            results = list(pool.map(fire, calls))
            for index, pair in enumerate(pairs):
                a, b = results[2 * index], results[2 * index + 1]
                winners = [s for s in (a, b) if s.accepted]
                losers = [s for s in (a, b) if not s.accepted]
                assert len(winners) == 1, (
                    f"{pair.name}: {len(winners)} winners: {a.status} {a.body}; {b.status} {b.body}"
                )
                loser = losers[0]
                lost_precondition = loser.problem.endswith("/precondition-failed")
                assert loser.status == (412 if lost_precondition else 409), loser.body
                assert loser.problem in CONFLICT_TYPES, (
                    f"{pair.name}: the loser got {loser.status} {loser.body}"
                )
                # Only a change sent with If-Match can fail its precondition.
                assert not lost_precondition or pair.name == "same If-Match version", pair.name
                outcomes[loser.problem.rsplit("/", 1)[-1]] += 1
    return outcomes


# --- a free-for-all on a few persons -----------------------------------------------------------


def free_for_all(session: Session, pool: list[UUID], seconds: float, seed: int) -> int:
    """CLIENTS threads send random commands on the same few persons until time is up."""
    deadline = time.monotonic() + seconds
    transfers: list[tuple[UUID, str, tuple[UUID, ...]]] = []
    listed = threading.Lock()
    at = session.acted_at

    def client(number: int) -> int:
        rng = random.Random(seed * 100 + number)
        count = 0
        while time.monotonic() < deadline:
            count += 1
            person = rng.choice(pool)
            roll = rng.random()
            with listed:
                known = rng.choice(transfers) if transfers else None
            if roll < 0.25 or known is None:
                origin, destination = rng.sample(SITES, 2)
                manifest = rng.sample(pool, rng.randint(1, 3))
                sent = session.send(
                    "plan_transfer", origin=origin, destination=destination,
                    manifest=manifest, occurred_at=at,
                )  # fmt: skip
                if sent.accepted:
                    with listed:
                        transfers.append(
                            (UUID(sent.body["transfer_id"]), destination, tuple(manifest))
                        )
            elif roll < 0.35:
                session.send("dispatch_transfer", transfer_id=known[0], occurred_at=at)
            elif roll < 0.45:
                session.send(
                    "receive_transfer", transfer_id=known[0], site_code=known[1],
                    persons=list(known[2]), occurred_at=at,
                )  # fmt: skip
            elif roll < 0.52:
                session.send(
                    "cancel_transfer", transfer_id=known[0], reason="vehicle broke down",
                    occurred_at=at,
                )  # fmt: skip
            elif roll < 0.67:
                session.send(
                    "hold_person", person_id=person, reason="interview", **ORDER, occurred_at=at
                )
            elif roll < 0.77:
                session.send("release_person", person_id=person, reason="cleared", occurred_at=at)
            elif roll < 0.97:
                outcome = rng.choice(("cleared", "referred", "held"))
                session.send(
                    "record_screening_step", person_id=person,
                    step=rng.choice(("identity", "medical", "vulnerability", "security")),
                    outcome=outcome, reason="", occurred_at=at,
                    **(ORDER if outcome == "held" else {}),
                )  # fmt: skip
            else:
                session.send(
                    "record_departure", person_id=person, reason="resettled", occurred_at=at
                )
        return count

    with ThreadPoolExecutor(max_workers=CLIENTS) as threads:
        return sum(threads.map(client, range(CLIENTS)))


# --- the checks ----------------------------------------------------------------------------------


def person_state(person: Person) -> dict[str, Any]:
    return {
        "version": person.version,
        "status": person.status,
        "site_code": person.site_code,
        "transfer_id": person.transfer_id,
        "screening": dict(person.screening),
        "departure_reason": person.departure_reason,
    }


def transfer_state(transfer: Transfer) -> dict[str, Any]:
    return {
        "version": transfer.version,
        "state": transfer.state,
        "manifest": transfer.manifest,
        "received": set(transfer.received),
    }


def event_names(registry: Registry) -> dict[UUID, list[str]]:
    """Each aggregate's events by class name, in order, straight from the log."""
    found: dict[UUID, list[str]] = {}
    for n in registry.recorder.select_notifications(start=1, limit=10**7):
        found.setdefault(UUID(str(n.originator_id)), []).append(n.topic.rsplit(".", 1)[-1])
    return found


def check_one_transfer_at_a_time(registry: Registry) -> int:
    """Walk the log: a person is placed on a manifest only when on none. Returns placements."""
    on_transfer: dict[UUID, UUID | None] = {}
    placements = 0
    for n in registry.recorder.select_notifications(start=1, limit=10**7):
        event = registry.mapper.to_domain_event(n)
        person = UUID(str(n.originator_id))
        if isinstance(event, Person.PlacedOnManifest):
            assert on_transfer.get(person) is None, (
                f"person {person} placed on {event.transfer_id} while on {on_transfer[person]}"
            )
            on_transfer[person] = event.transfer_id
            placements += 1
        elif isinstance(event, Person.RemovedFromManifest | Person.TransferReceived):
            on_transfer[person] = None
    return placements


def check_serial_replay(session: Session, database_url: str) -> tuple[int, int]:
    """Replay the accepted commands in log order; compare every person and transfer."""
    serial = Registry()  # in memory, real clock: the field times sent are all in the past
    for sent in session.accepted:
        try:
            replay(serial, sent, session.token.name)
        except Exception as error:  # the server accepted what a serial run refuses
            refused = f"replay refused {sent.command} {sent.kwargs}: {error!r}"
            raise AssertionError(refused) from error
    live = Registry(env=library_env(database_url))
    try:
        live_events, serial_events = event_names(live), event_names(serial)
        assert live_events == serial_events, "the log differs from the serial replay's"
        persons = transfers = 0
        for aggregate_id, names in live_events.items():
            if names[0] == "Registered":
                found, expected = live.get_person(aggregate_id), serial.get_person(aggregate_id)
                assert person_state(found) == person_state(expected), aggregate_id
                persons += 1
            elif names[0] == "Planned":
                found_t = live.get_transfer(aggregate_id)
                expected_t = serial.get_transfer(aggregate_id)
                assert transfer_state(found_t) == transfer_state(expected_t), aggregate_id
                transfers += 1
        check_one_transfer_at_a_time(live)
        open_manifests = [
            p for t in _transfers(live, live_events) if t.state in ("planned", "dispatched")
            for p in t.manifest if p not in t.received
        ]  # fmt: skip
        assert len(open_manifests) == len(set(open_manifests)), "a person is on two transfers"
        return persons, transfers
    finally:
        live.close()


def _transfers(registry: Registry, events: dict[UUID, list[str]]) -> list[Transfer]:
    return [registry.get_transfer(i) for i, names in events.items() if names[0] == "Planned"]


def test_racing_clients_leave_what_a_serial_replay_leaves(
    server: Server, database_url: str, figures: Figures
) -> None:
    now = datetime.now(UTC)
    session = Session(
        server=server,
        token=make_token(database_url),
        registered_at=now - timedelta(hours=2),
        acted_at=now - timedelta(hours=1),
    )
    rounds = max(30, int(soak_seconds(0) * 4))
    persons = setup(session, rounds * 8 + POOL)
    started = time.perf_counter()
    outcomes = race_pairs(session, persons, rounds)
    pool = persons[rounds * 8 :]
    chaos = free_for_all(session, pool, soak_seconds(3.0), seed=rounds)
    elapsed = time.perf_counter() - started

    unexpected = [s for s in session.sent if not s.accepted and s.status not in (409, 412)]
    assert not unexpected, [(s.command, s.status, s.body) for s in unexpected[:5]]
    problems = Counter(s.problem.rsplit("/", 1)[-1] for s in session.sent if s.status == 409)
    checked_persons, checked_transfers = check_serial_replay(session, database_url)
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM registry_events").fetchone()
        events = int(row[0]) if row else 0

    figures.record(
        "concurrency" + (" (soak)" if soaking() else ""),
        pairs_raced=sum(outcomes.values()),
        lost_to_store=outcomes["concurrent-change"],
        lost_to_if_match=outcomes["precondition-failed"],
        lost_to_rules=sum(outcomes.values())
        - outcomes["concurrent-change"]
        - outcomes["precondition-failed"],
        free_for_all_requests=chaos,
        accepted=len(session.accepted),
        refused_409=sum(problems.values()),
        persons_replayed=checked_persons,
        transfers_replayed=checked_transfers,
        events_checked=events,
        seconds=elapsed,
    )
