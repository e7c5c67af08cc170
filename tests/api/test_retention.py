"""The retention policy end to end, through ``campledger retention apply`` on a real
database: a dry run lists exactly the records the policy covers and writes nothing; an
application erases exactly them, each with an erasure event whose basis is ``retention``,
and a second application finds nothing. Without a policy the command refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.api.services import retention
from campledger.api.services.retention import RetentionPolicy
from campledger.domain.model.arrival import Arrival
from campledger.domain.model.person import Person
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.roster import Roster
from campledger.projections.stays import Stays

runner = CliRunner()
ACTOR = "setup"
DAYS = 30
# The clock the world is arranged on; the command reads the real one, a little later.
NOW = datetime.now(UTC)
SITE = "RC-1"


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's database, named to the command line as a URL (its settings take one)."""
    params = conninfo_to_dict(database_url)
    host = str(params.get("host", ""))
    user = params.get("user", "postgres")
    if host.startswith("/"):  # the embedded server's socket directory
        as_url = f"postgresql://{user}@/{params['dbname']}?host={host}"
    else:
        as_url = f"postgresql://{user}@{host}:{params.get('port', 5432)}/{params['dbname']}"
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url)
    monkeypatch.setenv("CAMPLEDGER_RETENTION_DEPARTED_DAYS", str(DAYS))
    return database_url


@pytest.fixture
def registry(library_env: dict[str, str]) -> Iterator[Registry]:
    registry = Registry(env=library_env)
    try:
        yield registry
    finally:
        registry.close()


@dataclass
class World:
    departed_long_ago: UUID  # 365 days ago, and corrected yesterday: due
    duplicate: UUID  # merged into departed_long_ago before they left: due
    departed_recently: UUID  # 2 days ago: kept
    present: UUID  # never left: kept
    erased_before: UUID  # departed long ago, erased on request already: not listed


def _days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _register(registry: Registry, number: str, name: str) -> UUID:
    arrival = Arrival(
        registration_number=number,
        given_name=name,
        family_name="Haroun",
        sex="female",
        nationality="SDN",
        estimated_age=30,
        occurred_at=_days_ago(400),
    )
    done = registry.register_arrival(site_code=SITE, arrival=arrival, actor=ACTOR)
    return UUID(done.result["person_id"])


def _depart(registry: Registry, person: UUID, days_ago: float) -> None:
    registry.record_departure(
        person_id=person, reason="resettled", occurred_at=_days_ago(days_ago), actor=ACTOR
    )


def _project(url: str) -> None:
    with Projector(url, [Roster, Stays]) as projector:
        projector.catch_up()


@pytest.fixture
def world(url: str, registry: Registry) -> World:
    registry.open_site(
        code=SITE, name="Reception", kind="reception", capacity=100,
        occurred_at=_days_ago(500), actor=ACTOR,
    )  # fmt: skip
    long_ago = _register(registry, "OLD-1", "Zubaidah")
    duplicate = _register(registry, "DUP-1", "Zubeida")
    registry.merge_persons(
        duplicate_id=duplicate, survivor_id=long_ago, reason="same person",
        occurred_at=_days_ago(390), actor=ACTOR,
    )  # fmt: skip
    _depart(registry, long_ago, 365)
    # A later event does not move the departure the policy counts from.
    registry.correct_detail(
        person_id=long_ago, field="family_name", value="Harun", reason="spelling", actor=ACTOR
    )
    recently = _register(registry, "NEW-1", "Halime")
    _depart(registry, recently, 2)
    present = _register(registry, "HERE-1", "Amina")
    erased = _register(registry, "GONE-1", "Khadija")
    _depart(registry, erased, 200)
    registry.erase_personal_data(person_id=erased, basis="subject_request", actor=ACTOR)
    _project(url)
    return World(long_ago, duplicate, recently, present, erased)


def _log(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT notification_id, originator_id, topic FROM registry_events ORDER BY 1"
        ).fetchall()


def _erasures(url: str, registry: Registry) -> dict[UUID, Person.PersonalDataErased]:
    """Each record's erasure event, as recorded in the log."""
    found = {}
    for _, person_id, topic in _log(url):
        if topic.endswith("PersonalDataErased"):
            [event] = [
                e
                for e in registry.repository.event_store.get(person_id)
                if isinstance(e, Person.PersonalDataErased)
            ]
            found[person_id] = event
    return found


def _roster(url: str) -> dict[UUID, tuple[str, bool, str | None]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT person_id, status, erased, given_name FROM read_roster.roster"
        ).fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _retention(*args: str) -> Any:
    return runner.invoke(app, ["retention", "apply", *args])


def test_a_dry_run_lists_exactly_the_old_departures_and_writes_nothing(
    url: str, world: World
) -> None:
    log, roster = _log(url), _roster(url)

    result = _retention("--dry-run", "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["dry_run"] is True and body["erased"] == [] and body["left"] == []
    assert body["policy"] == {
        "departed_days": DAYS, "description": "retention: departed more than 30 days ago",
    }  # fmt: skip
    listed = {row["person_id"]: row for row in body["due"]}
    assert set(listed) == {str(world.departed_long_ago), str(world.duplicate)}
    departed = listed[str(world.departed_long_ago)]
    assert departed["registration_number"] == "OLD-1" and departed["merged_into"] is None
    assert departed["days_since_departure"] == 365
    # The departure's time, not the correction's (yesterday).
    assert datetime.fromisoformat(departed["departed_at"]) == _days_ago(365)
    duplicate = listed[str(world.duplicate)]
    assert duplicate["merged_into"] == str(world.departed_long_ago)
    assert duplicate["departed_at"] == departed["departed_at"]
    # Never a name, in any form the world used.
    for name in ("Zubaidah", "Zubeida", "Harun", "Haroun", "Halime", "Amina", "Khadija"):
        assert name not in result.output
    assert _log(url) == log and _roster(url) == roster

    text = _retention("--dry-run")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0].startswith("retention: departed more than 30 days ago, as of ")
    # One line a record, by departure, then registration number.
    duplicate_line, departed_line = lines[1:-1]
    assert duplicate_line.startswith(f"{world.duplicate}  DUP-1  departed ")
    assert f"merged into {world.departed_long_ago}" in duplicate_line
    assert departed_line.startswith(f"{world.departed_long_ago}  OLD-1  departed ")
    assert departed_line.endswith("365 days ago")
    assert lines[-1] == "dry run: 2 records would be erased; nothing was written"
    assert _log(url) == log


def test_apply_erases_exactly_the_old_departures_and_a_second_apply_finds_nothing(
    url: str, world: World, registry: Registry
) -> None:
    before = _roster(url)
    result = _retention("--json", "--actor", "dpo-cron")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["dry_run"] is False and body["left"] == []
    erased = {row["person_id"]: row["position"] for row in body["erased"]}
    assert set(erased) == {str(world.departed_long_ago), str(world.duplicate)}
    events = _erasures(url, registry)
    assert set(events) == {world.departed_long_ago, world.duplicate, world.erased_before}
    for person in (world.departed_long_ago, world.duplicate):
        event = events[person]
        assert (event.basis, event.order_reference, event.actor) == (
            "retention", "retention: departed more than 30 days ago", "dpo-cron",
        )  # fmt: skip
        assert registry.get_person(person).given_name is None
    # Each erasure is its own event, the last two in the log.
    assert sorted(erased.values()) == [row[0] for row in _log(url)[-2:]]

    _project(url)
    after = _roster(url)
    for person in (world.departed_long_ago, world.duplicate):
        assert after[person][1:] == (True, None)
    for person in (world.departed_recently, world.present):
        assert after[person] == before[person] and after[person][1] is False
    assert registry.get_person(world.departed_recently).given_name == "Halime"
    assert registry.get_person(world.present).given_name == "Amina"

    log = _log(url)
    again = _retention("--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["due"] == [] and _log(url) == log
    text = _retention()
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[-1] == "0 records erased under the retention policy"


@pytest.mark.parametrize("value", [None, ""])
def test_without_a_policy_the_command_refuses_and_writes_nothing(
    url: str, world: World, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CAMPLEDGER_RETENTION_DEPARTED_DAYS")
    else:
        monkeypatch.setenv("CAMPLEDGER_RETENTION_DEPARTED_DAYS", value)
    log = _log(url)
    for args in ([], ["--dry-run"], ["--json"]):
        result = _retention(*args)
        assert result.exit_code == ExitCode.CONFIG, result.output
        assert result.stdout == ""
        assert "no retention policy is set: set CAMPLEDGER_RETENTION_DEPARTED_DAYS" in (
            result.stderr
        )
    assert _log(url) == log


@pytest.mark.parametrize("value", ["0", "-3", "thirty", "36501"])
def test_a_policy_that_is_not_a_number_of_days_is_refused_and_writes_nothing(
    url: str, world: World, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CAMPLEDGER_RETENTION_DEPARTED_DAYS", value)
    log = _log(url)
    result = _retention()
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "invalid setting CAMPLEDGER_RETENTION_DEPARTED_DAYS" in result.stderr
    assert value not in result.stderr.replace("CAMPLEDGER_RETENTION_DEPARTED_DAYS", "")
    assert _log(url) == log


def test_before_the_read_models_are_built_the_command_says_so(url: str, registry: Registry) -> None:
    registry.open_site(code=SITE, name="Reception", kind="reception", capacity=10, actor=ACTOR)
    log = _log(url)
    result = _retention("--dry-run")
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert "run `campledger project`" in result.stderr and result.stdout == ""
    assert _log(url) == log


def test_the_log_decides_when_the_read_models_lag_behind_it(
    url: str, world: World, registry: Registry
) -> None:
    """Erased since the read models were projected: the roster still shows the person
    departed and not erased, and the log says otherwise."""
    registry.erase_personal_data(
        person_id=world.duplicate, basis="data_protection_officer", actor=ACTOR
    )
    policy = RetentionPolicy(DAYS)
    with psycopg.connect(url) as conn:
        run = retention.apply_policy(conn, registry, policy, actor=ACTOR, dry_run=True)
    assert [d.person_id for d in run.due] == [world.departed_long_ago]
    assert run.read_models_behind == 1


def test_a_record_changed_between_the_check_and_the_erasure_is_left(
    url: str, world: World, registry: Registry
) -> None:
    policy = RetentionPolicy(DAYS)
    with psycopg.connect(url) as conn:
        _, due = retention.find_due(conn, registry, policy)
    registry.correct_detail(
        person_id=world.departed_long_ago, field="given_name", value="Zoubaida",
        reason="spelling", actor=ACTOR,
    )  # fmt: skip
    erased, left = retention.erase_due(registry, due, policy, actor=ACTOR)
    assert [e.due.person_id for e in erased] == [world.duplicate]
    assert [k.due.person_id for k in left] == [world.departed_long_ago]
    assert "Zoubaida" not in left[0].reason
    assert not registry.get_person(world.departed_long_ago).erased


def test_the_departure_must_be_more_than_the_policy_days_old(
    url: str, world: World, library_env: dict[str, str]
) -> None:
    """On a clock exactly 365 days after the old departure, a 365-day policy keeps it and
    a 364-day policy erases it."""
    at_the_day = Registry(env=library_env, clock=lambda: _days_ago(0))
    try:
        with psycopg.connect(url) as conn:
            _, kept = retention.find_due(conn, at_the_day, RetentionPolicy(365))
            _, due = retention.find_due(conn, at_the_day, RetentionPolicy(364))
    finally:
        at_the_day.close()
    assert kept == []
    assert {d.person_id for d in due} == {world.departed_long_ago, world.duplicate}
