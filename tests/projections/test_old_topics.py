"""A log written before the product was installed as ``campledger``.

Earlier releases installed the folders as the top-level packages ``domain``, ``api`` and
``projections``, so their events name classes ``domain.person:Person.Registered`` (in the
topic column, and inside each aggregate's creation event as ``originator_topic``). The log
is immutable: those topics must keep resolving, rebuild the same read models, and leave
their aggregates open to new commands.
"""

from __future__ import annotations

import random
from typing import Any

import psycopg
from psycopg import sql

from campledger.domain.commands.persons import RecordDeparture
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector
from campledger.projections.event_log import EVENTS_TABLE
from tests.projections.engine_support import (
    Reception,
    assert_same_tables,
    conn,
    head,
    open_sites,
    registry,
    snapshot,
)

__all__ = ["conn", "registry"]

NOW, BEFORE = "campledger.domain.model.", "domain."
# The ledger chains the stored bytes themselves, which the rewrite changed on purpose.
DECODED = [model for model in READ_MODELS if model.name != "ledger"]


def as_an_earlier_release_wrote_it(conn: psycopg.Connection[Any]) -> int:
    """Rewrite the log's topics to the names earlier releases stored; returns how many
    events named a class inside their state (creation events)."""
    table = sql.Identifier(EVENTS_TABLE)
    inside = conn.execute(
        sql.SQL(
            "SELECT count(*) FROM {} WHERE position(%s in convert_from(state, 'UTF8')) > 0"
        ).format(table),
        (NOW,),
    ).fetchone()
    conn.execute(
        sql.SQL(
            "UPDATE {} SET topic = replace(topic, %s, %s), "
            "state = convert_to(replace(convert_from(state, 'UTF8'), %s, %s), 'UTF8')"
        ).format(table),
        (NOW, BEFORE, NOW, BEFORE),
    )
    return int(inside[0]) if inside else 0


def topics(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        sql.SQL("SELECT DISTINCT topic FROM {}").format(sql.Identifier(EVENTS_TABLE))
    )
    return {r[0] for r in rows}


def test_a_log_with_the_old_topics_rebuilds_the_same_read_models_and_takes_new_commands(
    registry: Registry,
    library_env: dict[str, str],
    database_url: str,
    conn: psycopg.Connection[Any],
) -> None:
    open_sites(registry)
    reception = Reception(registry, random.Random(5), "T")
    for _ in reception.run(rounds=2, batch_size=10):
        pass
    with Projector(database_url) as projector:
        projector.catch_up()
    written_now = snapshot(conn, DECODED)

    assert as_an_earlier_release_wrote_it(conn) > 10
    old = topics(conn)
    assert old and all(t.startswith(BEFORE) for t in old)
    assert "domain.person:Person.Registered" in old

    # A fresh process: nothing resolved yet from the new names.
    with Projector(database_url) as projector:
        summary = projector.rebuild()
    assert summary.events == head(conn)
    assert_same_tables(snapshot(conn, DECODED), written_now)

    later = Registry(env=library_env)
    try:
        person = reception.registered[0]
        assert later.repository.get(person).id == person
        # The old aggregates take new commands, whose events carry today's topics.
        for _ in Reception(later, random.Random(6), "U").run(rounds=1, batch_size=5):
            pass
        later.handle(RecordDeparture(person_id=person, reason="resettled"), actor="officer-7")
    finally:
        later.close()
    assert any(t.startswith(NOW) for t in topics(conn) - old)
