"""The demo operation writes names as the desks do, and its duplicates list has real cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from campledger.api.services.demo import RESPELLED, load_demo
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.duplicates import candidates_page
from campledger.projections.engine import Projector
from campledger.projections.roster import Roster
from campledger.projections.scripts import is_arabic

pytestmark = pytest.mark.postgres


@pytest.fixture
def demo(library_env: dict[str, str], database_url: str) -> Iterator[psycopg.Connection[Any]]:
    registry = Registry(env=library_env)
    try:
        load_demo(registry, trucks=2, truck_size=150, now=datetime(2026, 11, 1, tzinfo=UTC))
    finally:
        registry.close()
    with Projector(database_url, READ_MODELS) as projector:
        projector.catch_up()
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


def test_a_share_of_names_is_in_arabic_script_with_the_latin_form_beside_it(
    demo: psycopg.Connection[Any],
) -> None:
    # At the reception desk (a camp desk registered some again in one script only).
    rows = demo.execute(
        f"SELECT given_name, given_name_latin, nationality FROM {Roster.live_schema()}.roster "
        "WHERE registration_number LIKE 'ADR-%%'"
    ).fetchall()
    arabic = [r for r in rows if is_arabic(r[0])]

    assert 0.1 < len(arabic) / len(rows) < 0.4
    assert all(latin and not is_arabic(latin) and nat == "SDN" for _, latin, nat in arabic)
    assert [(g, latin) for g, latin, _ in rows if not is_arabic(g) and latin is not None] == []


def test_people_registered_again_under_another_spelling_are_proposed_as_duplicates(
    demo: psycopg.Connection[Any],
) -> None:
    again = {
        r[0]: r[1]
        for r in demo.execute(
            f"SELECT person_id, registration_number FROM {Roster.live_schema()}.roster "
            "WHERE registration_number LIKE '%%-DESK-%%' AND status <> 'merged'"
        )
    }
    pairs = candidates_page(demo, limit=100).rows
    proposed = {p["person_id"] for p in pairs} | {p["other_id"] for p in pairs}

    assert len(again) == RESPELLED
    assert set(again) <= proposed
