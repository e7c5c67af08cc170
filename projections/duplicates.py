"""Likely duplicates: pairs of person records that may be one person, ranked for review.

A pair is proposed when both records are active (not departed, not merged away), of the
same sex, born within two years of each other (date of birth, or registration year minus
the estimated age), and their names are alike across transliterations
(``projections.names``: name similarity at least ``NAME_THRESHOLD``). The score is the
name similarity adjusted by the birth years, dates of birth and household
(``projections.matching``).

Comparing every record with every other would be 5·10⁹ comparisons for 100,000 people.
Records are compared only within a *block*: same sex, same sound key of the family name
(``names.block_key``), birth years at most two apart. Within a block, RapidFuzz's C++
``process.extract`` discards the given names that cannot reach the threshold before any
pair is scored in Python (the bound is exact: see ``matching.plausible``).

The blocks live in memory (``_Index``), checked at every batch against this model's
checkpoint and its schema's oid: a projector that restarted, lost a transaction, or whose
schema was rebuilt and swapped in by another process reloads them from ``people``. Every
table's rows depend only on the events, never on how they were batched, so a rebuild
gives the same rows as the live model.

Personal data (normalised names, date of birth) stays in ``people``, which no query
returns. A candidate row holds the two person ids (lower first), the score and the
reasons ("name 0.93, same sex, birth year ±1, same household"), never a name.
A dismissal (``DuplicatePair.Dismissed``) removes its pair for good; a merge or a
departure removes every pair of the record that closed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Cursor, sql

from campledger.domain.model.duplicates import DuplicatePair, ordered
from campledger.domain.model.person import Person
from campledger.projections import paging
from campledger.projections.matching import (
    BIRTH_YEAR_WINDOW,
    Profile,
    Stats,
    assess,
    one_slip,
    plausible,
)
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel
from campledger.projections.roster import Roster
from campledger.projections.rows import rows_of


class _Index:
    """Every record's profile, the active ones in blocks, and the dismissed pairs."""

    def __init__(self, schema_oid: int | None, position: int) -> None:
        self.schema_oid = schema_oid
        self.position = position
        self.profiles: dict[UUID, Profile] = {}
        self.buckets: dict[tuple[str, str, int], dict[UUID, Profile]] = defaultdict(dict)
        self.dismissed: set[tuple[UUID, UUID]] = set()

    def put(self, profile: Profile) -> None:
        old = self.profiles.get(profile.person_id)
        if old is not None and old.active and old.block:
            bucket = self.buckets[old.bucket]
            bucket.pop(old.person_id, None)
            if not bucket:
                del self.buckets[old.bucket]
        self.profiles[profile.person_id] = profile
        # A name with no sound key to block on is in no block: never compared, rather than
        # compared with every other such record as if their empty names agreed.
        if profile.active and profile.block:
            self.buckets[profile.bucket][profile.person_id] = profile

    def window(self, profile: Profile) -> Iterator[Profile]:
        """Active records in the profile's block, birth years within the window."""
        if not profile.block:
            return
        year = profile.birth_year
        for y in range(year - BIRTH_YEAR_WINDOW, year + BIRTH_YEAR_WINDOW + 1):
            bucket = self.buckets.get((profile.sex, profile.block, y))
            if bucket:
                yield from bucket.values()


class Duplicates(ReadModel):
    name = "duplicates"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.people (
            person_id uuid PRIMARY KEY,
            sex text NOT NULL,
            given_form text NOT NULL,
            family_form text NOT NULL,
            given_key text NOT NULL,
            family_key text NOT NULL,
            block text NOT NULL,
            date_of_birth date,
            estimated_age integer,
            registered_year integer NOT NULL,
            household_id text,
            site_code text,
            active boolean NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS {schema}.candidates (
            person_id uuid NOT NULL,
            other_id uuid NOT NULL,
            score integer NOT NULL,
            reasons text NOT NULL,
            PRIMARY KEY (person_id, other_id)
        )
        """,
        "CREATE INDEX IF NOT EXISTS candidates_rank "
        "ON {schema}.candidates (score DESC, person_id, other_id)",
        "CREATE INDEX IF NOT EXISTS candidates_other ON {schema}.candidates (other_id)",
        """
        CREATE TABLE IF NOT EXISTS {schema}.dismissed (
            person_id uuid NOT NULL,
            other_id uuid NOT NULL,
            position bigint NOT NULL,
            PRIMARY KEY (person_id, other_id)
        )
        """,
    )

    def __init__(self, schema: str | None = None) -> None:
        super().__init__(schema)
        self._index: _Index | None = None
        self.stats = Stats()

    # --- the in-memory index ------------------------------------------------------------

    def forget(self) -> None:
        self._index = None

    def _current_index(self, cur: Cursor[Any]) -> _Index:
        # The schema's oid tells one schema from another of the same name: a rebuild
        # swaps in a newly created schema under the live name.
        self.run(
            cur,
            "SELECT %s::regnamespace::oid, (SELECT notification_id FROM "
            "{schema}.tracking WHERE application_name = 'Registry')",
            (self.schema,),
        )
        row = cur.fetchone()
        schema_oid, position = (int(row[0]), int(row[1] or 0)) if row else (None, 0)
        index = self._index
        if index is None or index.schema_oid != schema_oid or index.position != position:
            index = self._index = self._load(cur, schema_oid, position)
        return index

    def _load(self, cur: Cursor[Any], schema_oid: int | None, position: int) -> _Index:
        index = _Index(schema_oid, position)
        self.run(cur, f"SELECT {_PROFILE_COLUMNS} FROM {{schema}}.people")
        for row in cur.fetchall():
            index.put(Profile(*row))
        self.run(cur, "SELECT person_id, other_id FROM {schema}.dismissed")
        index.dismissed.update((a, b) for a, b in cur.fetchall())
        return index

    # --- applying a batch -------------------------------------------------------------

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        index = self._current_index(cur)
        registered_here: set[UUID] = set()
        changed: dict[UUID, Profile] = {}
        rematch: set[UUID] = set()
        closed: set[UUID] = set()
        dismissed: list[tuple[UUID, UUID, int]] = []
        for envelope in batch:
            event = envelope.event
            person_id = envelope.originator_id
            if isinstance(event, Person.Registered):
                profile = Profile.registered(person_id, event)
                rematch.add(person_id)
                registered_here.add(person_id)
            elif isinstance(event, DuplicatePair.Dismissed):
                pair = ordered(event.person_id, event.other_id)
                index.dismissed.add(pair)
                dismissed.append((*pair, envelope.position))
                continue
            else:
                current = index.profiles.get(person_id)
                if current is None:
                    continue  # not a person (a site, a transfer) or never registered
                found = current.after(event)
                if found is None:
                    continue
                profile, matters = found
                if not profile.active:
                    closed.add(person_id)
                elif matters:
                    rematch.add(person_id)
            index.put(profile)
            changed[person_id] = profile

        self._write_profiles(cur, changed.values())
        # Records registered in this batch have no candidates written yet.
        stale = list((rematch | closed) - registered_here)
        if stale:
            self.run(
                cur,
                "DELETE FROM {schema}.candidates WHERE person_id = ANY(%(p)s) "
                "OR other_id = ANY(%(p)s)",
                {"p": stale},
            )
        if dismissed:
            self._write_dismissals(cur, dismissed)
        targets = [index.profiles[p] for p in rematch if index.profiles[p].active]
        found_pairs = self._match(index, targets)
        if found_pairs:
            self.run(
                cur,
                "INSERT INTO {schema}.candidates (person_id, other_id, score, reasons) "
                "SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::int[], %b::text[]) "
                "ON CONFLICT (person_id, other_id) DO UPDATE "
                "SET score = EXCLUDED.score, reasons = EXCLUDED.reasons",
                (
                    [k[0] for k in found_pairs],
                    [k[1] for k in found_pairs],
                    [v[0] for v in found_pairs.values()],
                    [v[1] for v in found_pairs.values()],
                ),
            )
        index.position = batch[-1].position

    def _match(
        self, index: _Index, targets: list[Profile]
    ) -> dict[tuple[UUID, UUID], tuple[int, str]]:
        found: dict[tuple[UUID, UUID], tuple[int, str]] = {}
        # Targets already matched, by object identity: their pairs with later targets are
        # done. (Identity, not UUIDs: hashing UUIDs cost more than scoring on large batches.)
        done: set[int] = set()
        stats = self.stats
        for target in targets:
            stats.matched += 1
            done.add(id(target))
            born = target.date_of_birth
            # Inline checks: this loop runs once per record in every window.
            others = [
                p
                for p in index.window(target)
                if id(p) not in done
                and (
                    born is None
                    or p.date_of_birth is None
                    or p.date_of_birth == born
                    or one_slip(born, p.date_of_birth)
                )
            ]
            stats.window += len(others)
            for other in plausible(target, others):
                stats.scored += 1
                assessed = assess(target, other)  # symmetric: either order scores the same
                if assessed is None:
                    continue
                pair = ordered(target.person_id, other.person_id)
                if pair not in index.dismissed:
                    found[pair] = assessed
                    stats.proposed += 1
        return found

    def _write_profiles(self, cur: Cursor[Any], profiles: Iterable[Profile]) -> None:
        # Arrays go in binary (%b): text arrays are quoted element by element, which cost
        # more than the matching itself on batches of registrations.
        rows = list(profiles)
        if not rows:
            return
        columns = list(zip(*(_profile_row(p) for p in rows), strict=True))
        self.run(
            cur,
            f"INSERT INTO {{schema}}.people ({_PROFILE_COLUMNS}) SELECT * FROM unnest("
            "%b::uuid[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], "
            "%b::text[], %b::date[], %b::int[], %b::int[], %b::text[], %b::text[], "
            "%b::bool[]) ON CONFLICT (person_id) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in _PROFILE_FIELDS[1:]),
            [list(c) for c in columns],
        )

    def _write_dismissals(self, cur: Cursor[Any], dismissed: list[tuple[UUID, UUID, int]]) -> None:
        columns = ([d[0] for d in dismissed], [d[1] for d in dismissed], [d[2] for d in dismissed])
        self.run(
            cur,
            "INSERT INTO {schema}.dismissed (person_id, other_id, position) "
            "SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::bigint[]) ON CONFLICT DO NOTHING",
            columns,
        )
        self.run(
            cur,
            "DELETE FROM {schema}.candidates c USING unnest(%b::uuid[], %b::uuid[]) AS d(a, b) "
            "WHERE c.person_id = d.a AND c.other_id = d.b",
            columns[:2],
        )


_PROFILE_FIELDS = (
    "person_id", "sex", "given_form", "family_form", "given_key", "family_key", "block",
    "date_of_birth", "estimated_age", "registered_year", "household_id", "site_code", "active",
)  # fmt: skip
_PROFILE_COLUMNS = ", ".join(_PROFILE_FIELDS)


def _profile_row(profile: Profile) -> tuple[Any, ...]:
    return tuple(getattr(profile, f) for f in _PROFILE_FIELDS)


# --- queries ------------------------------------------------------------------------------


_KIND = "duplicates"
_KEY = (paging.INTEGER, paging.ID, paging.ID)


def _key(row: dict[str, Any]) -> tuple[int, UUID, UUID]:
    return row["points"], row["person_id"], row["other_id"]


# Each candidate pair with both sides' sites and registration numbers, as the review list
# (``candidates_page``) and a new record's matches (``api.services.duplicates_read``) read it.
_PAIRS = """
SELECT c.score AS points, c.person_id, c.other_id, c.reasons,
       pa.site_code AS person_site_code, pb.site_code AS other_site_code,
       ra.registration_number AS person_registration_number,
       rb.registration_number AS other_registration_number
FROM {candidates} c
JOIN {people} pa ON pa.person_id = c.person_id
JOIN {people} pb ON pb.person_id = c.other_id
LEFT JOIN {roster} ra ON ra.person_id = c.person_id
LEFT JOIN {roster} rb ON rb.person_id = c.other_id
"""


def pairs_query(filters: str) -> sql.Composed:
    """``_PAIRS`` on the live read models, then ``filters`` (WHERE, ORDER BY, LIMIT)."""
    return sql.SQL(_PAIRS + filters).format(
        candidates=sql.Identifier(Duplicates.live_schema(), "candidates"),
        people=sql.Identifier(Duplicates.live_schema(), "people"),
        roster=sql.Identifier(Roster.live_schema(), "roster"),
    )


_PAGE_FILTERS = """
WHERE (%(sites)s::text[] IS NULL
       OR pa.site_code = ANY(%(sites)s::text[]) OR pb.site_code = ANY(%(sites)s::text[]))
  AND (%(within)s::text[] IS NULL
       OR (pa.site_code = ANY(%(within)s::text[]) AND pb.site_code = ANY(%(within)s::text[])))
  AND (%(points)s::integer IS NULL OR c.score < %(points)s
       OR (c.score = %(points)s AND (c.person_id, c.other_id) > (%(person)s, %(other)s)))
ORDER BY c.score DESC, c.person_id, c.other_id
LIMIT %(limit)s
"""


def candidates_page(
    conn: psycopg.Connection[Any],
    sites: Sequence[str] | None = None,
    *,
    within: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """Likely duplicates, highest score first, where either record is at (or was last at)
    one of ``sites`` and both are at one of ``within`` (None: everywhere). ``after`` is the
    previous page's ``next_cursor``."""
    paging.check_limit(limit)
    points, person, other = (
        paging.decode_cursor(_KIND, after, _KEY) if after else (None, None, None)
    )
    query = pairs_query(_PAGE_FILTERS)
    params = {
        "sites": list(sites) if sites is not None else None,
        "within": list(within) if within is not None else None,
        "points": points,
        "person": person,
        "other": other,
        "limit": limit + 1,
    }
    rows = rows_of(conn, query, params)
    page = paging.page_of(_KIND, rows, limit, _key)
    for row in page.rows:
        row["score"] = row.pop("points") / 1000
    return page


def candidate(conn: psycopg.Connection[Any], a: UUID, b: UUID) -> dict[str, Any] | None:
    """The pair's score and reasons while it is proposed (None once dismissed or closed)."""
    query = sql.SQL("SELECT score, reasons FROM {} WHERE person_id = %s AND other_id = %s")
    table = sql.Identifier(Duplicates.live_schema(), "candidates")
    found = rows_of(conn, query.format(table), ordered(a, b))
    return {"score": found[0]["score"] / 1000, "reasons": found[0]["reasons"]} if found else None
