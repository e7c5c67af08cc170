"""What the engine promises every read model within a batch, checked with small models
of the test's own rather than the catalog's."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import Cursor

from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.readmodel import Envelope, ReadModel
from tests.projections.engine_support import (
    Reception,
    conn,
    open_sites,
    registry,
)

__all__ = ["conn", "registry"]


class Marks(ReadModel):
    """Writes and never reads: a few statements per event, whose results (more than the
    server's 8 kB output buffer per batch) reach the client while the batch goes on."""

    name = "test_marks"
    ddl = ("CREATE TABLE IF NOT EXISTS {schema}.marks (position bigint PRIMARY KEY)",)

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        for envelope in batch:
            self.run(cur, "INSERT INTO {schema}.marks VALUES (%s)", (envelope.position,))
            for _ in range(4):
                self.run(cur, "UPDATE {schema}.marks SET position = %s WHERE position = %s",
                         (envelope.position, envelope.position))  # fmt: skip


class Tally(ReadModel):
    """Reads its own table before writing, as the ledger reads its last link."""

    name = "test_tally"
    ddl = ("CREATE TABLE IF NOT EXISTS {schema}.tally (upto bigint PRIMARY KEY, seen bigint)",)

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        # Time for the results of the models before this one to reach the client.
        time.sleep(0.02)
        self.run(cur, "SELECT COALESCE(max(seen), 0) FROM {schema}.tally")
        row = cur.fetchone()
        assert row is not None
        self.run(
            cur,
            "INSERT INTO {schema}.tally VALUES (%s, %s)",
            (batch[-1].position, int(row[0]) + len(batch)),
        )


def test_a_model_reads_its_own_results_whatever_the_models_before_it_wrote(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    last = 0
    for result in Reception(registry, random.Random(1), "B").run(rounds=2, batch_size=150):
        last = result.position
    with Projector(database_url, [Marks, Tally], batch_size=100) as projector:
        assert projector.catch_up() == last
    row = conn.execute("SELECT max(seen), count(*) FROM read_test_tally.tally").fetchone()
    assert row == (last, -(-last // 100))
