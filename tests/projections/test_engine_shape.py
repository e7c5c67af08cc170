"""A read model whose tables changed shape in a new release is rebuilt, not written into."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections.engine import Projector
from campledger.projections.roster import Roster, roster_page
from campledger.projections.stays import Stays
from tests.projections.lifecycle import (
    MODELS,
    arrival,
    conn,
    open_sites,
    project,
    register,
    registry,
    table_contents,
)

__all__ = ["conn", "registry"]  # fixtures

pytestmark = pytest.mark.postgres


def _as_an_earlier_release_left_it(conn: psycopg.Connection[Any]) -> None:
    # Before shapes were stamped, and before the roster kept search keys.
    conn.execute("DROP TABLE read_roster.shape")
    conn.execute("ALTER TABLE read_roster.roster DROP COLUMN name_keys")


def _shape(conn: psycopg.Connection[Any], schema: str) -> str | None:
    row = conn.execute(f"SELECT shape FROM {schema}.shape").fetchone()
    return None if row is None else row[0]


def test_every_model_is_stamped_with_the_shape_it_was_built_for(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    project(database_url)

    for model in MODELS:
        assert _shape(conn, model.live_schema()) == model.shape()
    assert Roster.shape() != Stays.shape()


def test_a_model_built_for_another_shape_is_rebuilt_by_the_projector(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    register(registry, "RC-1", arrival("R-1", given_name="محمد"), arrival("R-2"))
    project(database_url)
    expected = table_contents(conn, "read_roster")
    stays_before = conn.execute("SELECT count(*) FROM read_stays.tracking").fetchone()
    _as_an_earlier_release_left_it(conn)

    project(database_url)  # catch_up sets up first

    assert _shape(conn, "read_roster") == Roster.shape()
    assert table_contents(conn, "read_roster") == expected
    assert [r["registration_number"] for r in roster_page(conn, "RC-1", name="Mohamed").rows] == [
        "R-1"
    ]
    # Models whose shape did not change are left as they were.
    assert conn.execute("SELECT count(*) FROM read_stays.tracking").fetchone() == stays_before


def test_a_stamp_that_differs_is_a_changed_shape_too(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    register(registry, "RC-1", arrival("R-1"))
    project(database_url)
    conn.execute("UPDATE read_roster.shape SET shape = 'built-by-an-older-release'")
    conn.execute("TRUNCATE read_roster.roster")

    project(database_url)

    assert _shape(conn, "read_roster") == Roster.shape()
    assert len(roster_page(conn, "RC-1").rows) == 1


def test_an_api_process_leaves_the_rebuild_to_the_projector(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    open_sites(registry)
    register(registry, "RC-1", arrival("R-1"))
    project(database_url)
    _as_an_earlier_release_left_it(conn)

    with Projector(database_url, MODELS) as projector:
        projector.setup(rebuild_changed=False)

    assert conn.execute("SELECT to_regclass('read_roster.shape')").fetchone() == (None,)
    columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'read_roster' AND table_name = 'roster'"
        )
    }
    assert "name_keys" not in columns
