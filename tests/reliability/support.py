"""Helpers for the reliability tests: the real server as a process, tokens, and checks.

The tests run ``campledger serve`` (and ``project``, ``rebuild``) as subprocesses so a
SIGKILL hits exactly what it would hit in the field, and talk to them over loopback HTTP.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from campledger.api.schemas import ArrivalCreate
from campledger.api.services.auth import create_token
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from campledger.projections.readmodel import ReadModel
from tests.projections.engine_support import open_writes, settled_fates
from tests.projections.lifecycle import table_contents

CONFLICT_TYPES = frozenset(
    "/problems/" + code
    for code in (
        "concurrent-change",
        "precondition-failed",  # 412, for a change at an If-Match version no longer current
        "person-on-another-manifest",
        "person-held",
        "person-not-held",
        "person-departed",
        "person-in-transit",
        "person-not-at-site",
        "duplicate-registration-number",
    )
)
SOAK_VARIABLE = "CAMPLEDGER_SOAK_SECONDS"


def soak_seconds(default: float) -> float:
    """How long a load phase runs: ``default`` in CI, longer when a soak is asked for."""
    value = os.environ.get(SOAK_VARIABLE, "").strip()
    return max(default, float(value)) if value else default


def soaking() -> bool:
    return bool(os.environ.get(SOAK_VARIABLE, "").strip())


# --- figures: what each test measured, shown in the suite's summary -----------------------


@dataclass
class Figures:
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    label: str = "reliability"

    def record(self, test: str, **figures: Any) -> None:
        self.rows.append((test, figures))
        print(f"\n[{self.label}] {test}: " + format_figures(figures))

    def lines(self) -> list[str]:
        return [f"{test}: {format_figures(figures)}" for test, figures in self.rows]


FIGURES_KEY = pytest.StashKey[Figures]()


def format_figures(figures: dict[str, Any]) -> str:
    def show(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:,.1f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    return ", ".join(f"{name.replace('_', ' ')} {show(value)}" for name, value in figures.items())


# --- databases ---------------------------------------------------------------------------------


def as_url(conninfo: str) -> str:
    """A conninfo string as the ``postgresql://`` URL that CAMPLEDGER_DATABASE_URL takes."""
    params = conninfo_to_dict(conninfo)
    user = quote(str(params.get("user") or "postgres"), safe="")
    password = str(params.get("password") or "")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    dbname = quote(str(params.get("dbname") or "postgres"), safe="")
    host = str(params.get("host") or "localhost")
    if host.startswith("/"):  # a unix-socket directory (the embedded server)
        port = params.get("port")
        suffix = f"&port={port}" if port else ""
        return f"postgresql://{auth}@/{dbname}?host={quote(host, safe='/')}{suffix}"
    return f"postgresql://{auth}@{host}:{params.get('port') or 5432}/{dbname}"


@dataclass(frozen=True)
class Token:
    name: str  # the actor every event of this token's commands records
    secret: str


def make_token(database_url: str, role: str = "admin") -> Token:
    """A token created on the database directly, as ``campledger token create`` would."""
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        return Token(name, create_token(conn, name=name, role=role))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the real processes ---------------------------------------------------------------------


def campledger_executable() -> str:
    found = Path(sys.executable).with_name("campledger")
    if not found.exists():
        raise RuntimeError(f"campledger is not installed beside {sys.executable}")
    return str(found)


def process_env(database_url: str, work_dir: Path, application: str = "") -> dict[str, str]:
    url = as_url(database_url)
    if application:  # its sessions can then be told apart in pg_stat_activity
        url += ("&" if "?" in url else "?") + f"application_name={application}"
    env = dict(os.environ)
    env.update(
        CAMPLEDGER_DATABASE_URL=url,
        CAMPLEDGER_DATA_DIR=str(work_dir / "data"),
        CAMPLEDGER_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class CliProcess:
    """``campledger <args>`` on the test's database, output kept in a log file."""

    args: Sequence[str]
    database_url: str
    work_dir: Path
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0
    # The application_name of its database sessions: a test can see its transactions.
    application: str = ""

    def __post_init__(self) -> None:
        self.application = self.application or f"cl-test-{self.args[0]}-{uuid.uuid4().hex[:8]}"

    @property
    def log_path(self) -> Path:
        return self.work_dir / f"{self.args[0]}.log"

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.runs += 1
        log = self.log_path.open("ab")
        log.write(f"\n--- run {self.runs}: campledger {' '.join(self.args)}\n".encode())
        log.flush()
        # The work directory as cwd: a developer's .env file must not decide where we write.
        self.process = subprocess.Popen(
            [campledger_executable(), *self.args],
            env=process_env(self.database_url, self.work_dir, self.application),
            cwd=self.work_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, no transaction is finished, nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.wait(10)

    def wait(self, timeout: float) -> int | None:
        if self.process is None:
            return None
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Server(CliProcess):
    """``campledger serve`` on a free loopback port."""

    def __init__(self, database_url: str, work_dir: Path, *, projector: bool = True) -> None:
        self.port = free_port()
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not projector:
            args.append("--no-projector")
        super().__init__(args=args, database_url=database_url, work_dir=work_dir)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"campledger serve exited early:\n{self.output()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"campledger serve was not ready (/health/ready):\n{self.output()[-3000:]}"
        )

    def client(self, token: Token, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url + "/api/v1",
            headers={"Authorization": f"Bearer {token.secret}"},
            timeout=timeout,
        )


def problem_type(response: httpx.Response) -> str:
    """The problem's type, or "" for a body that is not a problem (a list, not JSON)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


# --- a kill inside a transaction ---------------------------------------------------------------


def kill_inside_transaction(
    process: CliProcess,
    conn: psycopg.Connection[Any],
    *,
    writing_to: str | None = None,
    any_session: bool = False,
    timeout: float = 30.0,
) -> bool:
    """SIGKILL the process while it has a transaction open with writes in it (on
    ``writing_to``, if given); True if that transaction was then rolled back, False if it
    committed just before the kill. Fails if no such transaction showed up in time.

    ``any_session``: the process's sessions cannot all be told apart by name (the server's
    event store connects through the eventsourcing library, which sets none), so look at
    every session of the database; ``writing_to`` then says which writes are its."""
    deadline = time.monotonic() + timeout
    application = None if any_session else process.application
    while not (in_flight := open_writes(conn, application, writing_to)):
        assert process.running, f"{process.args[0]} ended:\n{process.output()[-2000:]}"
        assert time.monotonic() < deadline, f"{process.args[0]} never wrote: nothing to kill"
        time.sleep(0.002)
    process.kill()
    return "aborted" in settled_fates(conn, in_flight, timeout)


# --- read models against a rebuild ------------------------------------------------------------

VERIFY_SUFFIX = "__verify"


def catch_up(database_url: str) -> int:
    with Projector(database_url) as projector:
        return projector.catch_up()


def read_model_differences(database_url: str) -> tuple[dict[str, list[str]], int]:
    """Bring the live read models to the head, rebuild every one into scratch schemas
    from position 0, and list the tables whose rows differ. Also returns rows compared."""
    catch_up(database_url)
    scratch = [cls(schema=cls.live_schema() + VERIFY_SUFFIX) for cls in READ_MODELS]
    with psycopg.connect(database_url, autocommit=True) as conn:
        _drop(conn, scratch)
        try:
            with Projector(database_url) as projector:
                projector.models = scratch
                projector.catch_up()
            differences: dict[str, list[str]] = {}
            compared = 0
            for model in scratch:
                live = table_contents(conn, model.live_schema())
                rebuilt = table_contents(conn, model.schema)
                compared += sum(len(rows) for rows in live.values())
                bad = [t for t in sorted(set(live) | set(rebuilt)) if live.get(t) != rebuilt.get(t)]
                if bad:
                    differences[model.name] = bad
            return differences, compared
        finally:
            _drop(conn, scratch)


def _drop(conn: psycopg.Connection[Any], models: Sequence[ReadModel]) -> None:
    for model in models:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(model.schema))
        )


def assert_read_models_equal_rebuild(database_url: str) -> int:
    """Fail naming every table whose live rows differ from a rebuild; returns rows compared."""
    differences, compared = read_model_differences(database_url)
    assert not differences, f"read models differ from a rebuild: {differences}"
    return compared


# --- the event log ------------------------------------------------------------------------------


def registered_persons(conn: psycopg.Connection[Any], person_ids: Sequence[uuid.UUID]) -> int:
    """How many of these persons have their registration event in the log."""
    row = conn.execute(
        "SELECT count(*) FROM registry_events WHERE originator_id = ANY(%s) "
        "AND originator_version = 1",
        (list(person_ids),),
    ).fetchone()
    return int(row[0]) if row else 0


def log_count(conn: psycopg.Connection[Any]) -> int:
    """How many events the log holds (positions have gaps: a rolled-back insert uses some)."""
    row = conn.execute("SELECT count(*) FROM registry_events").fetchone()
    return int(row[0]) if row else 0


def log_head(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM registry_events").fetchone()
    return int(row[0]) if row else 0


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- commands over HTTP, and the same commands replayed on a Registry ---------------------------

PERSON_ROUTES = {
    "hold_person": "hold",
    "release_person": "release",
    "record_screening_step": "screening-steps",
    "record_departure": "departure",
}
TRANSFER_ROUTES = {
    "dispatch_transfer": "dispatch",
    "receive_transfer": "receipts",
    "reconcile_transfer": "reconcile",
    "cancel_transfer": "cancel",
}


@dataclass
class Sent:
    """One command as sent over HTTP (in the Registry's own terms) and what came back.

    ``status`` 0 means no answer at all: the connection broke or timed out."""

    command: str
    kwargs: dict[str, Any]
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    expected_version: int | None = None
    key: str | None = None  # the Idempotency-Key it was sent with
    seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def answered(self) -> bool:
        return self.status != 0

    @property
    def position(self) -> int:
        return int(self.body["position"])

    @property
    def problem(self) -> str:
        return str(self.body.get("type", ""))


_SYLLABLES = [c + v for c in "bdfghkmnrstz" for v in "aeiou"]


def made_up_name(rng: random.Random) -> str:
    """A pronounceable name no one has: varied names keep the duplicate finder's blocks
    as small as a real caseload's (thousands of identical names would all pair up)."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def arrival(occurred_at: datetime, **overrides: Any) -> Arrival:
    """A valid arrival with a fresh registration number and a client-minted person id."""
    rng = random.Random()
    base = Arrival(
        registration_number=f"R-{uuid.uuid4().hex[:16]}",
        given_name=made_up_name(rng),
        family_name=made_up_name(rng),
        sex=rng.choice(("female", "male")),
        nationality=rng.choice(("SDN", "SSD", "TCD")),
        estimated_age=rng.randint(0, 90),
        occurred_at=occurred_at,
        person_id=uuid.uuid4(),
    )
    return replace(base, **overrides)


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, Arrival):
        # What the API's arrival takes (the domain's value may carry more, derived by it).
        taken = ArrivalCreate.model_fields
        return {f.name: _json(getattr(value, f.name)) for f in fields(value) if f.name in taken}
    return value


def http_request(command: str, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The path and JSON body of the API call that asks for this Registry command."""
    body = {k: _json(v) for k, v in kwargs.items()}
    if command == "open_site":
        return "/sites", body
    if command == "register_arrival":
        return "/arrivals", {"site_code": body["site_code"], **body["arrival"]}
    if command == "register_arrivals":
        return "/arrivals/batch", body
    if command == "plan_transfer":
        return "/transfers", body
    if command in TRANSFER_ROUTES:
        transfer_id = body.pop("transfer_id")
        return f"/transfers/{transfer_id}/{TRANSFER_ROUTES[command]}", body
    if command in PERSON_ROUTES:
        person_id = body.pop("person_id")
        return f"/persons/{person_id}/{PERSON_ROUTES[command]}", body
    raise ValueError(f"no route for {command}")


def send(
    client: httpx.Client,
    command: str,
    *,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    **kwargs: Any,
) -> Sent:
    """Ask the server for a command; a broken connection is recorded, not raised."""
    sent = Sent(command, kwargs, expected_version=expected_version, key=idempotency_key)
    path, body = http_request(command, kwargs)
    headers = {}
    if expected_version is not None:
        headers["If-Match"] = f'"{expected_version}"'
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    started = time.perf_counter()
    try:
        response = client.post(path, json=body, headers=headers)
    except httpx.TransportError:
        sent.seconds = time.perf_counter() - started
        return sent
    sent.seconds = time.perf_counter() - started
    sent.status = response.status_code
    try:
        found = response.json()
    except ValueError:
        found = {"raw": response.text[:500]}
    sent.body = found if isinstance(found, dict) else {"items": found}
    return sent


def replay(registry: Registry, sent: Sent, actor: str) -> None:
    """Apply an accepted command to another Registry, with the ids the server chose."""
    kwargs = dict(sent.kwargs)
    if sent.command == "plan_transfer":
        kwargs["transfer_id"] = uuid.UUID(sent.body["transfer_id"])
    if sent.expected_version is not None:
        kwargs["expected_version"] = sent.expected_version
    getattr(registry, sent.command)(actor=actor, **kwargs)
