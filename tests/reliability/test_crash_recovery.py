"""Crash recovery: SIGKILL at the worst moments, and nothing acknowledged is lost.

- The server, while clients send batches of 500 arrivals: every batch that got a 201 is
  whole after the restart, every other batch is whole or absent (never half-written),
  and a client that retries with the same Idempotency-Key gets exactly one copy.
- The projector, while it follows a log that is still growing and a rebuild runs beside
  it: after a restart it resumes from its checkpoint and its read models equal a rebuild.
- A rebuild, midway: the old read models keep answering, complete, during and after it;
  the next rebuild finishes the job.

Each kill is sent while the process has a transaction open with writes in it (seen in
``pg_stat_activity``), and the tests check that such a transaction was found rolled back
afterwards: the kill landed inside a batch, not between two.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from psycopg import sql

from campledger.api.database import library_env
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from tests.reliability.support import (
    CliProcess,
    Figures,
    Sent,
    Server,
    Token,
    arrival,
    assert_read_models_equal_rebuild,
    kill_inside_transaction,
    log_count,
    log_head,
    make_token,
    registered_persons,
    send,
    soak_seconds,
    soaking,
)

BATCH = 500
WRITERS = 2
ROSTER = "read_roster"
EVENTS = "registry_events"


def open_site(server: Server, token: Token, code: str = "RC-1", kind: str = "reception") -> None:
    with server.client(token) as http:
        sent = send(
            http, "open_site", code=code, name=f"Site {code}", kind=kind, capacity=1_000_000,
            occurred_at=datetime.now(UTC) - timedelta(days=1),
        )  # fmt: skip
    assert sent.status in (200, 201), sent.body


# --- the server killed during batch registration -----------------------------------------------


@dataclass
class Batch:
    key: str
    arrivals: list[Any]
    sent: Sent | None = None

    @property
    def person_ids(self) -> list[UUID]:
        return [a.person_id for a in self.arrivals]


@dataclass
class Writers:
    """Clients sending batches of 500 until told to stop or the server goes away."""

    server: Server
    token: Token
    registered_at: datetime
    batches: list[Batch] = field(default_factory=list)
    acked: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self) -> None:
        with self.server.client(self.token, timeout=60) as http:
            while not self.stop.is_set():
                batch = Batch(uuid.uuid4().hex, [arrival(self.registered_at) for _ in range(BATCH)])
                with self.lock:
                    self.batches.append(batch)
                batch.sent = send(
                    http, "register_arrivals", idempotency_key=batch.key, site_code="RC-1",
                    arrivals=batch.arrivals,
                )  # fmt: skip
                if batch.sent.accepted:
                    self.acked.release()
                elif not batch.sent.answered:
                    return  # the server is gone


def test_a_killed_server_keeps_every_acknowledged_batch_whole(
    database_url: str, tmp_path: Path, figures: Figures
) -> None:
    server = Server(database_url, tmp_path / "serve")
    server.start()
    token = make_token(database_url)
    open_site(server, token)
    registered_at = datetime.now(UTC) - timedelta(hours=1)
    rng = random.Random()
    kills = landed = lost = retried = rolled_back = 0
    acked: list[Batch] = []
    started = time.monotonic()
    soak = soak_seconds(0)
    try:
        while kills < 3 or time.monotonic() - started < soak:
            writers = Writers(server, token, registered_at)
            threads = [threading.Thread(target=writers.write) for _ in range(WRITERS)]
            for thread in threads:
                thread.start()
            # Kill once a batch of this round is in, a moment later, while another batch is
            # being written to the log.
            assert writers.acked.acquire(timeout=60), "no batch acknowledged before the kill"
            time.sleep(rng.uniform(0.0, 0.5))
            with psycopg.connect(database_url, autocommit=True) as watch:
                rolled_back += kill_inside_transaction(
                    server, watch, writing_to=EVENTS, any_session=True
                )
            kills += 1
            writers.stop.set()
            for thread in threads:
                thread.join(60)
            server.start()

            with psycopg.connect(database_url) as conn, server.client(token, timeout=60) as http:
                for batch in writers.batches:
                    assert batch.sent is not None
                    found = registered_persons(conn, batch.person_ids)
                    if batch.sent.accepted:
                        assert found == BATCH, f"acknowledged batch has {found} of {BATCH}"
                        acked.append(batch)
                        continue
                    assert found in (0, BATCH), f"a batch was half-written: {found} of {BATCH}"
                    landed += found == BATCH
                    lost += found == 0
                    # The client never heard back: it retries with the same key. The stopped
                    # server's claim on the key answers 409 in flight until it lapses
                    # (docs/guarantees.md): a client sends it again after Retry-After.
                    deadline = time.monotonic() + 90
                    while True:
                        again = send(
                            http, "register_arrivals", idempotency_key=batch.key,
                            site_code="RC-1", arrivals=batch.arrivals,
                        )  # fmt: skip
                        in_flight = again.status == 409 and str(
                            again.body.get("type", "")
                        ).endswith("/idempotency-key-in-flight")
                        if not in_flight or time.monotonic() > deadline:
                            break
                        time.sleep(1)
                    # 201 either way: a replay answers what the first request answered.
                    assert again.status == 201, again.body
                    assert again.body["replayed"] is bool(found), again.body
                    assert again.body["person_ids"] == [str(p) for p in batch.person_ids]
                    assert registered_persons(conn, batch.person_ids) == BATCH
                    retried += 1
                    acked.append(batch)

        assert rolled_back, f"none of {kills} kills landed inside a batch being written"
        with psycopg.connect(database_url) as conn:
            everyone = [p for b in acked for p in b.person_ids]
            assert registered_persons(conn, everyone) == len(everyone)
            events = log_count(conn)
            assert events == 1 + len(everyone), "the log holds something no client asked for"
        rows = assert_read_models_equal_rebuild(database_url)
    finally:
        server.stop()

    figures.record(
        "server killed during batches" + (" (soak)" if soaking() else ""),
        kills_survived=kills,
        kills_inside_a_batch=rolled_back,
        batches_acknowledged=len(acked) - retried,
        in_doubt_landed=landed,
        in_doubt_absent=lost,
        retried_once=retried,
        persons_checked=len(everyone),
        events_checked=events,
        read_model_rows_compared=rows,
    )


# --- the projector killed while following the log ------------------------------------------------


def checkpoint(conn: psycopg.Connection[Any], schema: str = ROSTER) -> int:
    try:
        row = conn.execute(
            sql.SQL("SELECT notification_id FROM {}.tracking").format(sql.Identifier(schema))
        ).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        return -1
    return int(row[0]) if row else 0


def wait_until(condition: Any, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


@dataclass
class Traffic:
    """Registrations and transfers through the server while the projector comes and goes."""

    server: Server
    token: Token
    stop: threading.Event = field(default_factory=threading.Event)
    accepted: int = 0
    failures: list[Sent] = field(default_factory=list)

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        at = datetime.now(UTC) - timedelta(hours=1)
        with self.server.client(self.token, timeout=60) as http:
            while not self.stop.is_set():
                # Paced: the log keeps growing through every kill without piling up work.
                self.stop.wait(0.05)
                batch = [arrival(at - timedelta(minutes=5)) for _ in range(rng.randint(10, 60))]
                sent = send(http, "register_arrivals", site_code="RC-1", arrivals=batch)
                manifest = [a.person_id for a in rng.sample(batch, rng.randint(1, 10))]
                planned = send(
                    http, "plan_transfer", origin="RC-1", destination="CAMP-1",
                    manifest=manifest, occurred_at=at,
                )  # fmt: skip
                done = [sent, planned]
                if planned.accepted and rng.random() < 0.5:
                    transfer_id = planned.body["transfer_id"]
                    done.append(
                        send(http, "dispatch_transfer", transfer_id=transfer_id, occurred_at=at)
                    )
                self.accepted += sum(s.accepted for s in done)
                self.failures.extend(s for s in done if not s.accepted)


def test_a_killed_projector_resumes_and_equals_a_rebuild(
    database_url: str, tmp_path: Path, figures: Figures
) -> None:
    server = Server(database_url, tmp_path / "serve", projector=False)
    projector = CliProcess(["project"], database_url, tmp_path / "project")
    rebuild = CliProcess(["rebuild"], database_url, tmp_path / "rebuild")
    traffic_threads: list[threading.Thread] = []
    server.start()
    token = make_token(database_url)
    open_site(server, token)
    open_site(server, token, "CAMP-1", "camp")
    traffic = Traffic(server, token)
    rng = random.Random()
    kills = behind_at_kill = during_rebuild = rolled_back = 0
    try:
        traffic_threads = [
            threading.Thread(target=traffic.run, args=(n,), daemon=True) for n in range(2)
        ]
        for thread in traffic_threads:
            thread.start()
        started = time.monotonic()
        with psycopg.connect(database_url, autocommit=True) as conn:
            while kills < 4 or time.monotonic() - started < soak_seconds(0):
                before = checkpoint(conn)
                projector.start()
                # It resumes: its checkpoint moves past where the last one was killed.
                assert wait_until(lambda b=before: checkpoint(conn) > b, 60), projector.output()
                time.sleep(rng.uniform(0.1, 0.5))
                rolled_back += kill_inside_transaction(projector, conn)
                kills += 1
                behind_at_kill += checkpoint(conn) < log_head(conn)
                during_rebuild += rebuild.running
                if kills == 1:
                    # A rebuild from the start of the log, racing the next kills for the
                    # projector lock, and swapping its schemas in between two of them.
                    rebuild.start()
            assert rolled_back, f"none of {kills} kills landed inside a batch"
            assert rebuild.wait(120) == 0, rebuild.output()
            traffic.stop.set()
            for thread in traffic_threads:
                thread.join(60)
            assert not traffic.failures, [(s.command, s.body) for s in traffic.failures[:3]]
            head = log_head(conn)
            projector.start()
            assert wait_until(lambda: checkpoint(conn) >= head, 120, 0.1), projector.output()
            projector.stop()
        rows = assert_read_models_equal_rebuild(database_url)
    finally:
        traffic.stop.set()
        rebuild.kill()
        projector.stop()
        server.stop()

    figures.record(
        "projector killed while following" + (" (soak)" if soaking() else ""),
        kills_survived=kills,
        kills_inside_a_batch=rolled_back,
        kills_while_behind=behind_at_kill,
        kills_during_a_rebuild=during_rebuild,
        commands_during_kills=traffic.accepted,
        events_checked=head,
        read_model_rows_compared=rows,
    )


# --- a rebuild killed midway ----------------------------------------------------------------------


@pytest.fixture
def loaded(database_url: str) -> Iterator[int]:
    """A log of about 4,500 events (three rebuild batches), projected live."""
    registry = Registry(env=library_env(database_url))
    now = datetime.now(UTC)
    try:
        for code, kind in (("RC-1", "reception"), ("CAMP-1", "camp")):
            registry.open_site(
                code=code, name=code, kind=kind, capacity=100_000,
                occurred_at=now - timedelta(days=1), actor="loader",
            )  # fmt: skip
        for _ in range(4):
            arrivals = [arrival(now - timedelta(hours=3)) for _ in range(1_000)]
            registry.register_arrivals(site_code="RC-1", arrivals=arrivals, actor="loader")
        batch = [arrival(now - timedelta(hours=3)) for _ in range(200)]
        registry.register_arrivals(site_code="RC-1", arrivals=batch, actor="loader")
        for a in batch[:50]:
            registry.hold_person(
                person_id=a.person_id, reason="interview", actor="loader",
                occurred_at=now - timedelta(hours=2),
            )  # fmt: skip
        planned = registry.plan_transfer(
            origin="RC-1", destination="CAMP-1", manifest=[a.person_id for a in batch[50:150]],
            occurred_at=now - timedelta(hours=2), actor="loader",
        )  # fmt: skip
        transfer_id = UUID(planned.result["transfer_id"])
        registry.dispatch_transfer(
            transfer_id=transfer_id, occurred_at=now - timedelta(hours=2), actor="loader"
        )
    finally:
        registry.close()
    with Projector(database_url) as live:
        yield live.catch_up()


def whole_roster(http: httpx.Client, code: str = "RC-1") -> list[tuple[str, str]]:
    """Every page of a site's roster: (person, status)."""
    found: list[tuple[str, str]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if after:
            params["after"] = after
        response = http.get(f"/sites/{code}/roster", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend((row["person_id"], row["status"]) for row in page["items"])
        after = page["next_cursor"]
        if not after:
            return found


@dataclass
class RosterWatch:
    """A reader asking for the whole roster over and over, noting any other answer."""

    server: Server
    token: Token
    expected: list[tuple[str, str]]
    reads: int = 0
    wrong: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with self.server.client(self.token) as http:
            while not self.stop.is_set():
                try:
                    found = whole_roster(http)
                except AssertionError as error:
                    self.wrong.append(str(error)[:200])
                    continue
                self.reads += 1
                if found != self.expected:
                    self.wrong.append(f"{len(found)} rows instead of {len(self.expected)}")


def test_an_interrupted_rebuild_leaves_the_old_read_models_serving(
    database_url: str, loaded: int, tmp_path: Path, figures: Figures
) -> None:
    server = Server(database_url, tmp_path / "serve", projector=False)
    rebuild = CliProcess(["rebuild"], database_url, tmp_path / "rebuild")
    server.start()
    try:
        token = make_token(database_url)
        with server.client(token) as http, psycopg.connect(database_url, autocommit=True) as conn:
            old = whole_roster(http)
            assert len(old) == 4_100  # everyone registered, less the hundred in transit
            watch = RosterWatch(server, token, old)
            watcher = threading.Thread(target=watch.run, daemon=True)
            watcher.start()
            # The ledger is rebuilt batch by batch (the roster is folded in memory and
            # written at the end), so its checkpoint shows how far the rebuild has gone.
            scratch = "read_ledger__rebuild"
            # Kill it inside its second or third batch, while the roster is being read (a
            # kill just after a commit is not midway enough: start again).
            for _attempt in range(5):
                rebuild.start()
                while not 0 < checkpoint(conn, scratch) < loaded:
                    assert rebuild.running, "the rebuild ended before it could be interrupted"
                    time.sleep(0.01)
                if kill_inside_transaction(rebuild, conn):
                    break
            else:
                pytest.fail("no kill of the rebuild landed inside a batch")
            halfway = checkpoint(conn, scratch)
            assert 0 < halfway < loaded
            assert checkpoint(conn) == loaded, "the live roster lost its checkpoint"
            assert whole_roster(http) == old, "the interrupted rebuild changed the answer"

            # The next rebuild clears the half-built schemas and swaps in complete ones;
            # readers see the same roster before, during and after the swap.
            rebuild.start()
            assert rebuild.wait(120) == 0, rebuild.output()
            watch.stop.set()
            watcher.join(60)
            assert not watch.wrong, f"the roster changed during a rebuild: {watch.wrong[:3]}"
            assert watch.reads > 0
            assert whole_roster(http) == old
            leftovers = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read\\_%\\_\\_%'"
            ).fetchall()
            assert not leftovers, leftovers
        rows = assert_read_models_equal_rebuild(database_url)
    finally:
        rebuild.kill()
        server.stop()

    figures.record(
        "rebuild killed midway",
        events=loaded,
        killed_at=halfway,
        roster_reads_during_rebuilds=watch.reads,
        persons_on_roster=len(old),
        read_models=len(READ_MODELS),
        read_model_rows_compared=rows,
    )
