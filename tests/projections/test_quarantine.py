"""An event no read model can apply is set aside; the read models go on with the rest.

The poison is written straight into the log, as an older release (or a way in that forgot
a check) could have written it: a registration whose given name holds a NUL character,
which PostgreSQL text cannot store, and an event whose bytes do not decode at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest
from psycopg import Cursor
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.domain.service.registry import Registry
from campledger.projections import quarantine
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from campledger.projections.ledger import current_digest
from campledger.projections.readmodel import Envelope, ReadModel
from campledger.projections.roster import Roster
from campledger.projections.verify import verify_log
from tests.projections.engine_support import (
    RECEPTION,
    arrivals,
    as_url,
    conn,
    open_sites,
    registry,
)

__all__ = ["conn", "registry"]

ACTOR = "registrar-1"


def register(registry: Registry, prefix: str, count: int) -> int:
    return registry.register_arrivals(
        site_code=RECEPTION, arrivals=arrivals(prefix, 0, count), actor=ACTOR
    ).position


def write_poison(
    registry: Registry, conn: psycopg.Connection[Any], given_name: str
) -> tuple[int, uuid.UUID]:
    """A copy of the first registration as a new person, with ``given_name`` put in: stored
    as the recorder stores any event (sealed under a key of the new person's own), so that
    it decodes and only the read models that store names fail on it."""
    row = conn.execute(
        "SELECT originator_id FROM registry_events WHERE topic LIKE %s "
        "ORDER BY notification_id LIMIT 1",
        ("%Person.Registered%",),
    ).fetchone()
    assert row is not None
    original = next(iter(registry.repository.event_store.get(row[0])))
    person_id = uuid.uuid4()
    poison = object.__new__(type(original))
    poison.__dict__.update(
        vars(original), originator_id=person_id, given_name=given_name,
        registration_number="POISON-1",
    )  # fmt: skip
    [position] = registry.recorder.insert_events([registry.mapper.to_stored_event(poison)])
    return int(position), person_id


def roster_ids(conn: psycopg.Connection[Any]) -> set[uuid.UUID]:
    return {row[0] for row in conn.execute("SELECT person_id FROM read_roster.roster")}


def test_a_poison_event_is_set_aside_and_the_events_after_it_are_projected(
    registry: Registry, conn: psycopg.Connection[Any], database_url: str
) -> None:
    open_sites(registry)
    register(registry, "A", 6)
    poison, poisoned_person = write_poison(registry, conn, "Hal\x00ima")
    head = register(registry, "B", 6)

    with Projector(database_url, batch_size=5) as projector:
        projector.catch_up()
        checkpoints = projector.checkpoints()
        set_aside = quarantine.quarantined(conn, projector.models)

    # Every read model went past the poison to the head of the log.
    assert set(checkpoints.values()) == {head}
    # The people registered after it are on the roster; the poisoned one is not.
    on_roster = roster_ids(conn)
    assert len(on_roster) == 12 and poisoned_person not in on_roster
    # Set aside by the read models that store names, and by no other.
    models = {q.model for q in set_aside}
    assert "roster" in models and "ledger" not in models and "occupancy" not in models
    assert {q.position for q in set_aside} == {poison}
    roster_entry = next(q for q in set_aside if q.model == "roster")
    assert roster_entry.error.startswith("DataError")
    assert "projections/roster.py" in roster_entry.error
    # What is recorded names the failure, never the values the event carried.
    assert all("Hal" not in q.error and "POISON" not in q.error for q in set_aside)
    # The ledger chains every event, the poisoned one included, and the log still verifies.
    digest = current_digest(conn)
    assert digest is not None and digest.position == head
    assert verify_log(database_url).ok


def test_an_event_that_cannot_be_decoded_is_set_aside_for_every_read_model_but_the_ledger(
    registry: Registry, conn: psycopg.Connection[Any], database_url: str
) -> None:
    open_sites(registry)
    register(registry, "A", 3)
    row = conn.execute(
        "INSERT INTO registry_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, 'domain.person:Person.Teleported', %s) RETURNING notification_id",
        (uuid.uuid4(), b"not json"),
    ).fetchone()
    assert row is not None
    head = register(registry, "B", 3)

    with Projector(database_url) as projector:
        projector.catch_up()
        assert set(projector.checkpoints().values()) == {head}
        set_aside = quarantine.quarantined(conn, projector.models)
    assert {q.model for q in set_aside} == {m.name for m in READ_MODELS} - {"ledger"}
    assert {q.position for q in set_aside} == {row[0]}
    assert len(roster_ids(conn)) == 6


class Picky(ReadModel):
    """Refuses the events at the positions in ``refused``, as a handler with a bug would."""

    name = "test_picky"
    ddl = ("CREATE TABLE IF NOT EXISTS {schema}.seen (position bigint PRIMARY KEY)",)
    refused: set[int] = set()  # noqa: RUF012 (the test's switch, shared on purpose)

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        for envelope in batch:
            if envelope.position in self.refused:
                raise KeyError("given_name")
            self.run(cur, "INSERT INTO {schema}.seen VALUES (%s)", (envelope.position,))


def seen(conn: psycopg.Connection[Any]) -> list[int]:
    return [r[0] for r in conn.execute("SELECT position FROM read_test_picky.seen ORDER BY 1")]


def test_after_a_fix_a_retry_applies_the_events_set_aside(
    registry: Registry, conn: psycopg.Connection[Any], database_url: str
) -> None:
    open_sites(registry)
    head = register(registry, "A", 20)
    positions = [r[0] for r in conn.execute("SELECT notification_id FROM registry_events")]
    bad = {positions[3], positions[11]}
    Picky.refused = set(bad)
    try:
        with Projector(database_url, [Picky, Roster], batch_size=8) as projector:
            projector.catch_up()
            assert projector.checkpoints() == {"test_picky": head, "roster": head}
            assert seen(conn) == sorted(set(positions) - bad)
            set_aside = quarantine.quarantined(conn, projector.models)
            assert [(q.model, q.position) for q in set_aside] == [
                ("test_picky", p) for p in sorted(bad)
            ]
            # The handler's line, without the key the error carried.
            error = set_aside[0].error
            assert error.startswith("KeyError; at tests/projections/test_quarantine.py:")
            assert error.endswith(" in apply") and "given_name" not in error

            Picky.refused = set()  # the fix ships
            retried = projector.retry_quarantined()
            assert retried.models == ["test_picky"]
            assert seen(conn) == positions
            assert quarantine.quarantined(conn, projector.models) == []
    finally:
        Picky.refused = set()


def test_status_names_what_was_set_aside_and_the_commands_list_and_retry_it(
    registry: Registry,
    conn: psycopg.Connection[Any],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url(database_url))
    monkeypatch.setenv("COLUMNS", "200")
    open_sites(registry)
    register(registry, "A", 4)
    poison, _ = write_poison(registry, conn, "Ams\x00ha")
    register(registry, "B", 4)
    with Projector(database_url) as projector:
        projector.catch_up()
    runner = CliRunner()

    report = json_of(runner.invoke(app, ["status", "--json"]))
    assert report["status"] == "degraded"
    roster = next(m for m in report["models"] if m["name"] == "roster")
    assert (roster["lag"], roster["quarantined"]) == (0, [poison])
    table = runner.invoke(app, ["status"]).output
    assert "degraded" in table and f"first at {poison:,}" in table

    listed = json_of(runner.invoke(app, ["quarantine", "list", "--json"]))
    assert {(q["read_model"], q["position"]) for q in listed} >= {("roster", poison)}
    assert "Ams" not in runner.invoke(app, ["quarantine", "list"]).output

    # Nothing fixed: the retry rebuilds, sets the event aside again and says so.
    retried = runner.invoke(app, ["quarantine", "retry", "roster"])
    assert retried.exit_code == 1, retried.output
    assert "still set aside" in retried.output
    assert (
        runner.invoke(app, ["quarantine", "retry", "nosuchmodel"]).exit_code == ExitCode.NOT_FOUND
    )


def json_of(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)
