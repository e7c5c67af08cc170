"""Households: who belongs together, where each member is, and which families are apart.

``members`` follows each person registered with a household id. ``households`` is a
summary per household, recomputed at the end of every batch for the households the
batch touched, so listing the separated ones is an index scan rather than a grouping
of every member on each request.

A household is *separated* when its members still in our care (not departed, not
merged away as duplicates) are in more than one place — different sites, or some in
transit and some not, or on different vehicles — or when any of them is held or
unaccounted for. ``sites`` lists the sites its members are at or were last at, which
is also what a site-scoped reader must cover to see it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Cursor, sql

from campledger.domain.model.person import Person
from campledger.projections import paging
from campledger.projections.folds import copy_rows
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, Rows, handles
from campledger.projections.roster import Roster
from campledger.projections.rows import row_of, rows_of

# Where a member is, for comparing members: on site, on which vehicle, or nowhere known.
_PLACE = (
    "CASE status WHEN 'in_transit' THEN 'transfer:' || transfer_id::text "
    "WHEN 'unaccounted' THEN 'unaccounted:' || person_id::text "
    "ELSE 'site:' || site_code END"
)
_ACTIVE = "status NOT IN ('departed', 'merged')"


# Each household's summary, from its members (the statement goes on with their source).
_SUMMARISE = (
    "INSERT INTO {schema}.households SELECT m.household_id, count(*), "
    f"count(*) FILTER (WHERE {_ACTIVE}), "
    f"count(DISTINCT {_PLACE}) FILTER (WHERE {_ACTIVE}), "
    "count(*) FILTER (WHERE status = 'held'), "
    "count(*) FILTER (WHERE status = 'in_transit'), "
    "count(*) FILTER (WHERE status = 'unaccounted'), "
    "COALESCE(array_agg(DISTINCT COALESCE(site_code, last_site_code)) FILTER "
    f"(WHERE {_ACTIVE} AND COALESCE(site_code, last_site_code) IS NOT NULL), "
    "ARRAY[]::text[]), "
    f"count(DISTINCT {_PLACE}) FILTER (WHERE {_ACTIVE}) > 1 "
    "OR count(*) FILTER (WHERE status IN ('held', 'unaccounted')) > 0 "
)


class Households(ReadModel):
    name = "households"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.members (
            person_id uuid PRIMARY KEY,
            household_id text COLLATE "C",
            relationship text,
            status text NOT NULL,
            site_code text,
            last_site_code text,
            transfer_id uuid,
            position bigint NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS members_household ON {schema}.members (household_id) "
        "WHERE household_id IS NOT NULL",
        """
        CREATE TABLE IF NOT EXISTS {schema}.households (
            household_id text COLLATE "C" PRIMARY KEY,
            member_count integer NOT NULL,
            active integer NOT NULL,
            places integer NOT NULL,
            held integer NOT NULL,
            in_transit integer NOT NULL,
            unaccounted integer NOT NULL,
            sites text[] NOT NULL,
            separated boolean NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS households_separated ON {schema}.households "
        "(household_id) WHERE separated",
        # Households a batch changed, summarised at its end; always empty between batches.
        "CREATE TABLE IF NOT EXISTS {schema}.touched (household_id text PRIMARY KEY)",
    )

    rows = Rows(
        "members",
        "person_id",
        updates={
            Person.Held: "status = 'held'",
            Person.Released: "status = 'present'",
            Person.MarkedUnaccountedFor: "status = 'unaccounted', site_code = NULL",
            Person.Departed: "status = 'departed'",
            Person.MergedInto: "status = 'merged', site_code = NULL",
        },
    )

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        self._changed: list[Any] = []
        super().apply(cur, batch)
        if not self._changed:
            return
        self.run(
            cur,
            "INSERT INTO {schema}.touched SELECT DISTINCT household_id FROM {schema}.members "
            "WHERE person_id = ANY(%s) AND household_id IS NOT NULL ON CONFLICT DO NOTHING",
            (self._changed,),
        )
        self.run(cur, "DELETE FROM {schema}.households WHERE household_id IN "
                      "(SELECT household_id FROM {schema}.touched)")  # fmt: skip
        self.run(
            cur,
            _SUMMARISE + "FROM {schema}.members m JOIN {schema}.touched t USING (household_id) "
            "GROUP BY m.household_id",
        )
        self.run(cur, "DELETE FROM {schema}.touched")

    def fold(self) -> HouseholdsFold:
        return HouseholdsFold(self)

    def set(self, cur: Cursor[Any], envelope: Envelope, assignments: str, **params: Any) -> None:
        super().set(cur, envelope, assignments, **params)
        # The member's household is summarised again at the end of the batch.
        self._changed.append(envelope.originator_id)

    @handles(Person.Registered)
    def registered(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self.run(
            cur,
            "INSERT INTO {schema}.members (person_id, household_id, relationship, status, "
            "site_code, last_site_code, position) VALUES (%s, %s, %s, 'present', %s, %s, %s) "
            "ON CONFLICT (person_id) DO NOTHING",
            (
                envelope.originator_id,
                e.household_id,
                e.relationship,
                e.site_code,
                e.site_code,
                envelope.position,
            ),
        )
        if e.household_id is not None:
            self._changed.append(envelope.originator_id)

    @handles(Person.ScreeningStepRecorded)
    def screened(self, cur: Cursor[Any], envelope: Envelope) -> None:
        if envelope.event.outcome == "held":
            self.set(cur, envelope, "status = 'held'")

    @handles(Person.TransferDispatched)
    def dispatched(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self.set(cur, envelope, "status = 'in_transit', site_code = NULL, "
                  "last_site_code = %(origin)s, transfer_id = %(t)s",
                  origin=e.origin, t=e.transfer_id)  # fmt: skip

    @handles(Person.TransferReceived)
    def received(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(cur, envelope, "status = 'present', site_code = %(site)s, "
                  "last_site_code = %(site)s, transfer_id = NULL",
                  site=envelope.event.site_code)  # fmt: skip

    @handles(Person.DetailCorrected)
    def corrected(self, cur: Cursor[Any], envelope: Envelope) -> None:
        field, value = envelope.event.field, envelope.event.new_value
        if field not in ("household_id", "relationship"):
            return
        if field == "household_id":
            # The household the person leaves must be summarised again too.
            self.run(
                cur,
                "INSERT INTO {schema}.touched SELECT household_id FROM {schema}.members "
                "WHERE person_id = %s AND household_id IS NOT NULL ON CONFLICT DO NOTHING",
                (envelope.originator_id,),
            )
        self.set(cur, envelope, f"{field} = %(v)s", v=value)


_MEMBER_COLUMNS = (
    "person_id", "household_id", "relationship", "status", "site_code", "last_site_code",
    "transfer_id", "position",
)  # fmt: skip
# Each event's change to its member's row, as the live handlers make it.
_CHANGES: dict[type, Callable[[Any], dict[str, Any] | None]] = {
    Person.Held: lambda e: {"status": "held"},
    Person.Released: lambda e: {"status": "present"},
    Person.MarkedUnaccountedFor: lambda e: {"status": "unaccounted", "site_code": None},
    Person.Departed: lambda e: {"status": "departed"},
    Person.MergedInto: lambda e: {"status": "merged", "site_code": None},
    Person.ScreeningStepRecorded: lambda e: {"status": "held"} if e.outcome == "held" else None,
    Person.TransferDispatched: lambda e: {
        "status": "in_transit",
        "site_code": None,
        "last_site_code": e.origin,
        "transfer_id": e.transfer_id,
    },
    Person.TransferReceived: lambda e: {
        "status": "present",
        "site_code": e.site_code,
        "last_site_code": e.site_code,
        "transfer_id": None,
    },
    Person.DetailCorrected: lambda e: (
        {e.field: e.new_value} if e.field in ("household_id", "relationship") else None
    ),
}


class HouseholdsFold:
    """The members folded in memory for a rebuild (``projections/folds.py``), written once
    with COPY; then every household summarised in one statement, as a batch summarises
    the households it touched."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.members: dict[UUID, dict[str, Any]] = {}

    def apply(self, envelope: Envelope) -> None:
        e = envelope.event
        if isinstance(e, Person.Registered):
            self.members.setdefault(
                envelope.originator_id,
                {
                    "person_id": envelope.originator_id, "household_id": e.household_id,
                    "relationship": e.relationship, "status": "present",
                    "site_code": e.site_code, "last_site_code": e.site_code,
                    "transfer_id": None, "position": envelope.position,
                },
            )  # fmt: skip
            return
        changing = _CHANGES.get(type(e))
        change = changing(e) if changing is not None else None
        member = self.members.get(envelope.originator_id)
        if change is not None and member is not None:
            member.update(change, position=envelope.position)

    def write(self, cur: Cursor[Any]) -> None:
        rows = ([m[c] for c in _MEMBER_COLUMNS] for m in self.members.values())
        copy_rows(cur, self.model, "members", _MEMBER_COLUMNS, rows)
        self.model.run(
            cur,
            _SUMMARISE + "FROM {schema}.members m WHERE m.household_id IS NOT NULL "
            "GROUP BY m.household_id",
        )


# --- queries ------------------------------------------------------------------------------

_H = sql.Identifier(Households.live_schema(), "households")
_MEMBERS = sql.Identifier(Households.live_schema(), "members")
_SUMMARY = (
    "household_id, separated, member_count, active, places, held, in_transit, unaccounted, sites"
)


def household(conn: psycopg.Connection[Any], household_id: str) -> dict[str, Any] | None:
    """A household's summary and members (by id and relationship; no personal data)."""
    found = row_of(
        conn,
        sql.SQL(f"SELECT {_SUMMARY} FROM {{}} WHERE household_id = %s").format(_H),
        (household_id,),
    )
    if found is None:
        return None
    found["members"] = rows_of(
        conn,
        sql.SQL(
            "SELECT m.person_id, r.registration_number, m.relationship, m.status, "
            "m.site_code, m.last_site_code, m.transfer_id FROM {} m "
            "LEFT JOIN {} r USING (person_id) "
            "WHERE m.household_id = %s ORDER BY r.registration_number, m.person_id"
        ).format(_MEMBERS, sql.Identifier(Roster.live_schema(), "roster")),
        (household_id,),
    )
    return found


def within_sites(found: dict[str, Any], visible_sites: Collection[str]) -> dict[str, Any]:
    """A household as a reader of ``visible_sites`` may see it: members at (or last at)
    any other site are left out of ``members`` and only counted in
    ``members_outside_scope``, and ``sites`` lists only the visible ones. The reader
    learns that the family reaches further, not who its other members are or where."""
    members = found["members"]
    shown = [m for m in members if (m["site_code"] or m["last_site_code"]) in visible_sites]
    found = {**found, "members": shown, "members_outside_scope": len(members) - len(shown)}
    return _within(found, visible_sites)


def _within(summary: dict[str, Any], visible_sites: Collection[str]) -> dict[str, Any]:
    summary["sites"] = [site for site in summary["sites"] if site in visible_sites]
    return summary


def member_sites(
    conn: psycopg.Connection[Any], household_id: str, *, excluding: UUID | None = None
) -> list[str | None]:
    """The sites a household's members are at (or were last at), whatever their status,
    but for one person (the one about to join): who is already in the family, and where."""
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT COALESCE(site_code, last_site_code) FROM {} "
            "WHERE household_id = %s AND person_id IS DISTINCT FROM %s"
        ).format(_MEMBERS),
        (household_id, excluding),
    ).fetchall()
    return [row[0] for row in rows]


def separated_households(
    conn: psycopg.Connection[Any],
    site_code: str | None = None,
    *,
    after: str | None = None,
    limit: int = 100,
    within: Collection[str] | None = None,
    visible_sites: Collection[str] | None = None,
) -> Page:
    """Separated households in household-id order, optionally those with a member at (or
    last seen at) one site. ``after`` is the previous page's ``next_cursor``. With
    ``within``, only households with a member at one of those sites (a scoped reader's);
    with ``visible_sites``, each lists only those of its sites (and implies ``within``)."""
    paging.check_limit(limit)
    scope = visible_sites if visible_sites is not None else within
    start = paging.decode_cursor(_SEPARATED, after, (paging.TEXT,))[0] if after else None
    rows = rows_of(
        conn,
        sql.SQL(
            f"SELECT {_SUMMARY} FROM {{}} WHERE separated "
            "AND (%(site)s::text IS NULL OR %(site)s = ANY(sites)) "
            "AND (%(scope)s::text[] IS NULL OR sites && %(scope)s::text[]) "
            "AND (%(after)s::text IS NULL OR household_id > %(after)s) "
            "ORDER BY household_id LIMIT %(limit)s"
        ).format(_H),
        {
            "site": site_code,
            "scope": list(scope) if scope is not None else None,
            "after": start,
            "limit": limit + 1,
        },
    )
    page = paging.page_of(_SEPARATED, rows, limit, lambda row: (row["household_id"],))
    if visible_sites is None:
        return page
    return Page([_within(row, visible_sites) for row in page.rows], page.next_cursor)


_SEPARATED = "separated households"
