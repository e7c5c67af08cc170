"""The roster by name: both forms of a name, search by any spelling, sort by language."""

from __future__ import annotations

import base64
from typing import Any

import psycopg
import pytest

from campledger.domain.service.registry import Registry
from campledger.projections.collation import Locale
from campledger.projections.roster import get_person_row, roster_page
from campledger.projections.roster_rows import RosterOrder
from tests.projections.lifecycle import (
    arrival,
    conn,
    correct,
    open_sites,
    project,
    register,
    registry,
    t,
)

__all__ = ["conn", "registry"]  # fixtures

pytestmark = pytest.mark.postgres

# (number, given, family, given in Latin, family in Latin)
PEOPLE = [
    ("R-01", "محمد", "عثمان", "Mohamed", "Osman"),
    ("R-02", "Muhammad", "Othman", None, None),
    ("R-03", "فاطمة", "آدم", None, None),
    ("R-04", "Öztürk", "Şükrü", None, None),
    ("R-05", "Ahmed", "Zakaria", None, None),
    ("R-06", "أحمد", "بشير", "Ahmed", "Bashir"),
    ("R-07", "Hawa", "Abakar", None, None),
]


def _register(registry: Registry) -> dict[str, Any]:
    open_sites(registry)
    ids = register(
        registry,
        "RC-1",
        *(
            arrival(n, given_name=g, family_name=f, given_name_latin=gl, family_name_latin=fl)
            for n, g, f, gl, fl in PEOPLE
        ),
    )
    return dict(zip((p[0] for p in PEOPLE), ids, strict=True))


def _numbers(conn: psycopg.Connection[Any], **query: Any) -> list[str]:
    rows = roster_page(conn, "RC-1", include_personal=True, **query).rows
    return [r["registration_number"] for r in rows]


def test_both_forms_of_a_name_are_kept_and_the_search_keys_never_returned(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    ids = _register(registry)
    project(database_url)

    row = get_person_row(conn, ids["R-01"], include_personal=True)
    hidden = get_person_row(conn, ids["R-01"])

    assert row is not None and hidden is not None
    assert (row["given_name"], row["family_name"]) == ("محمد", "عثمان")
    assert (row["given_name_latin"], row["family_name_latin"]) == ("Mohamed", "Osman")
    for column in ("given_name_latin", "family_name_latin"):
        assert column not in hidden
    for column in ("name_keys", "name_order_en", "name_order_ar"):
        assert column not in row and column not in hidden


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("محمد", ["R-01", "R-02"]),  # the Arabic form, and a Latin one of the same name
        ("Mohammed", ["R-01", "R-02"]),
        ("mohamed osman", ["R-01", "R-02"]),  # every word, in any order and case
        ("عثمان محمد", ["R-01", "R-02"]),
        ("Fatima", ["R-03"]),  # a Latin spelling finds the Arabic-only record
        ("فاطمه", ["R-03"]),  # teh marbuta written as heh
        ("Ozturk", ["R-04"]),  # Turkish letters without their marks
        ("Bashir", ["R-06"]),  # only the Latin form says so
        ("Ahmed", ["R-05", "R-06"]),
        ("Mohamed Abakar", []),  # every word must be in the name
    ],
)
def test_a_person_is_found_by_any_spelling_in_either_script(
    registry: Registry,
    database_url: str,
    conn: psycopg.Connection[Any],
    search: str,
    found: list[str],
) -> None:
    _register(registry)
    project(database_url)

    assert _numbers(conn, name=search) == found


def test_a_search_with_no_letters_finds_nobody_not_everyone(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    _register(registry)
    project(database_url)

    assert len(_numbers(conn)) == len(PEOPLE)
    for search in ("", "--", "ـ", "  "):
        assert _numbers(conn, name=search) == []


def test_a_corrected_name_is_found_by_its_new_spelling_only(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    ids = _register(registry)
    correct(registry, ids["R-07"], "family_name", "Ibrahim", t(2))
    correct(registry, ids["R-03"], "given_name_latin", "Fatuma", t(2))
    project(database_url)

    assert _numbers(conn, name="Abakar") == []
    assert _numbers(conn, name="Brahim") == ["R-07"]
    row = get_person_row(conn, ids["R-03"], include_personal=True)
    assert row is not None and row["given_name_latin"] == "Fatuma"
    assert _numbers(conn, name="Fatuma Adam") == ["R-03"]


def test_english_sorts_by_the_latin_form_and_latin_before_arabic(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    _register(registry)
    project(database_url)

    names = _numbers(conn, order=RosterOrder.NAME, locale=Locale.EN)

    # Family names: Abakar, Bashir (R-06's Latin form), Osman (R-01's), Othman, Şükrü,
    # Zakaria; then آدم, the one name with no Latin form.
    assert names == ["R-07", "R-06", "R-01", "R-02", "R-04", "R-05", "R-03"]


def test_arabic_sorts_arabic_script_first_by_the_name_as_written(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    _register(registry)
    project(database_url)

    names = _numbers(conn, order=RosterOrder.NAME, locale=Locale.AR)

    # آدم, بشير, عثمان in Arabic alphabetical order; then the Latin-only names.
    assert names == ["R-03", "R-06", "R-01", "R-07", "R-02", "R-04", "R-05"]


@pytest.mark.parametrize("locale", list(Locale))
def test_pages_by_name_join_up_and_their_cursor_carries_no_name(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any], locale: Locale
) -> None:
    _register(registry)
    project(database_url)
    whole = _numbers(conn, order=RosterOrder.NAME, locale=locale)

    seen: list[str] = []
    cursor = None
    while True:
        page = roster_page(
            conn, "RC-1", order=RosterOrder.NAME, locale=locale, after=cursor, limit=2
        )
        seen += [r["registration_number"] for r in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        decoded = _decoded(cursor)
        assert not any(part in decoded for p in PEOPLE for part in p[1:] if part)

    assert seen == whole


def test_a_cursor_of_one_order_is_refused_by_the_other(
    registry: Registry, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    _register(registry)
    project(database_url)
    by_number = roster_page(conn, "RC-1", limit=2).next_cursor
    by_name = roster_page(conn, "RC-1", order=RosterOrder.NAME, limit=2).next_cursor

    with pytest.raises(ValueError):
        roster_page(conn, "RC-1", order=RosterOrder.NAME, after=by_number)
    with pytest.raises(ValueError):
        roster_page(conn, "RC-1", after=by_name)
    with pytest.raises(ValueError):
        roster_page(conn, "RC-1", order=RosterOrder.NAME, locale=Locale.AR, after=by_name)


def _decoded(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
