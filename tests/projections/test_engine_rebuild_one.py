"""One read model rebuilt alone while the others are ahead of it, then live catch-up: no
event is applied twice, to it or to them.

A rebuilt model starts at position 0 while the others sit at the head; by the swap it is
at the head and they are behind (officers kept writing); a batch then starts at the
lowest checkpoint and must give each model only the events past its own. Occupancy
counts (+1 on arrival, -1 on departure) show a double application at once: after the
catch-up they must equal the whole log projected into empty tables.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import islice
from typing import Any

import psycopg

from campledger.domain.service.registry import CommandResult, Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.engine import Projector, projector_thread
from campledger.projections.occupancy import Occupancy
from tests.projections.engine_support import (
    Reception,
    assert_same_tables,
    checkpoints,
    conn,
    head,
    open_sites,
    projected_from_zero,
    registry,
    snapshot,
)
from tests.projections.test_engine_rebuild import wait_for_head

__all__ = ["conn", "registry"]

NAMES = [m.name for m in READ_MODELS]


def write_during(commands: Iterator[CommandResult], per_batch: int, batches: int = 6) -> Any:
    """A rebuild's progress callback that writes ``per_batch`` commands after each of its
    first ``batches`` batches: officers go on working while the model is rebuilt (then
    stop, or the rebuild would chase the head for as long as they write)."""
    calls = iter(range(batches))

    def progress(done: int, total: int) -> None:
        if next(calls, None) is not None:
            for _ in islice(commands, per_batch):
                pass

    return progress


def test_one_model_rebuilt_behind_the_others_then_caught_up_applies_nothing_twice(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    reception = Reception(registry, random.Random(11), "A")
    for _ in reception.run(rounds=3, batch_size=60):
        pass
    with Projector(database_url) as projector:
        ahead = projector.catch_up()
    commands = reception.run(rounds=10, batch_size=30)

    # Occupancy from 0, in small batches, the others at the head all along; commands
    # keep arriving between its batches.
    with Projector(database_url, batch_size=40) as projector:
        projector.rebuild(["occupancy"], progress=write_during(commands, 3))
    found = checkpoints(conn)
    swapped_at = found["occupancy"]
    assert swapped_at > ahead, "nothing was written during the rebuild"
    assert {found[name] for name in NAMES if name != "occupancy"} == {ahead}

    for _ in islice(commands, 10):  # and after it: now every model is behind the head
        pass
    assert head(conn) > swapped_at

    # Live catch-up: batches start at the others' checkpoint, below occupancy's.
    with projector_thread(Projector(database_url, batch_size=25)) as follower:
        wait_for_head(conn, follower)
    assert checkpoints(conn) == dict.fromkeys(NAMES, head(conn))

    reference = projected_from_zero(database_url, READ_MODELS)
    assert_same_tables(snapshot(conn, [Occupancy]), {"occupancy": reference["occupancy"]})
    assert_same_tables(snapshot(conn), reference)
