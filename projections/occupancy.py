"""Sites and their occupancy: how many people are physically at each site, by sex and age.

``sites`` is the site list. ``counts`` (site, sex, age band) and ``needs`` (site, need)
count the persons physically at a site, present or held (``held`` says how many of the
total are held). ``counted`` remembers, per person, what they contribute and where (NULL
site while not counted), so a move or a correction subtracts the old contribution and
adds the new one, without re-reading anything.

The age band is the band at registration: SADD snapshots count by it, and a table that
changed every birthday could not be kept incrementally (the roster's age-band filter
uses today's). Counts that fall to zero stay as zero rows until an erasure clears them
(``erasure.py``); queries fill in zeros for empty cells anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import Cursor, sql

from campledger.domain.model.needs import SpecificNeed, with_categories
from campledger.domain.model.person import Person
from campledger.domain.model.site import Site
from campledger.domain.model.values import Sex
from campledger.projections import erasure, paging
from campledger.projections.ages import BAND_NAMES, band_sql
from campledger.projections.holds import held_counts
from campledger.projections.occupancy_fold import OccupancyFold, registration
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, Rows, handles
from campledger.projections.rows import row_of, rows_of

# Completed years on the registration day, as domain.values.age_on counts them; the date
# of birth wins over an estimate. age(timestamp, timestamp) is immutable, so the band can
# be a generated column and a correction of either field moves it by itself.
_AGE_AT_REGISTRATION = (
    "COALESCE(date_part('year', age(registered_on::timestamp, date_of_birth::timestamp))"
    "::integer, estimated_age)"
)

# Subtract / add the person's current contribution: no-ops while the person is not counted.
_SUBTRACT = (
    "UPDATE {schema}.counts c SET count = c.count - 1 FROM {schema}.counted p "
    "WHERE p.person_id = %(id)s AND c.site_code = p.site_code AND c.sex = p.sex "
    "AND c.age_band = p.age_band",
    "UPDATE {schema}.needs n SET count = n.count - 1 "
    "FROM {schema}.counted p CROSS JOIN LATERAL unnest(p.needs) AS u(need) "
    "WHERE p.person_id = %(id)s AND n.site_code = p.site_code AND n.need = u.need",
)
_ADD = (
    "INSERT INTO {schema}.counts AS c (site_code, sex, age_band, count) "
    "SELECT site_code, sex, age_band, 1 FROM {schema}.counted "
    "WHERE person_id = %(id)s AND site_code IS NOT NULL "
    "ON CONFLICT (site_code, sex, age_band) DO UPDATE SET count = c.count + 1",
    "INSERT INTO {schema}.needs AS n (site_code, need, count) "
    "SELECT p.site_code, u.need, 1 FROM {schema}.counted p "
    "CROSS JOIN LATERAL unnest(p.needs) AS u(need) "
    "WHERE p.person_id = %(id)s AND p.site_code IS NOT NULL "
    "ON CONFLICT (site_code, need) DO UPDATE SET count = n.count + 1",
)
_PLACE = "UPDATE {schema}.counted SET site_code = %(site)s WHERE person_id = %(id)s"

# Corrections that change what a person contributes, and how each is written.
_CORRECTED = {
    "sex": "sex = %(v)s",
    "date_of_birth": "date_of_birth = %(v)s::date",
    "estimated_age": "estimated_age = %(v)s::integer",
    "specific_needs": "needs = %(v)s::text[]",
}


class Occupancy(ReadModel):
    name = "occupancy"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.sites (
            code text COLLATE "C" PRIMARY KEY,
            site_id uuid NOT NULL UNIQUE,
            name text NOT NULL,
            kind text NOT NULL,
            capacity integer NOT NULL,
            is_open boolean NOT NULL,
            admin1_pcode text,
            admin2_pcode text,
            latitude double precision,
            longitude double precision,
            opened_at timestamptz NOT NULL,
            closed_at timestamptz,
            updated_at timestamptz NOT NULL,
            version integer NOT NULL
        )
        """,
        f"""
        CREATE TABLE IF NOT EXISTS {{schema}}.counted (
            person_id uuid PRIMARY KEY,
            site_code text,
            sex text NOT NULL,
            registered_on date NOT NULL,
            date_of_birth date,
            estimated_age integer,
            age_band text GENERATED ALWAYS AS ({band_sql(_AGE_AT_REGISTRATION)}) STORED,
            needs text[] NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS {schema}.counts (
            site_code text NOT NULL,
            sex text NOT NULL,
            age_band text NOT NULL,
            count integer NOT NULL,
            PRIMARY KEY (site_code, sex, age_band)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS {schema}.needs (
            site_code text NOT NULL,
            need text NOT NULL,
            count integer NOT NULL,
            PRIMARY KEY (site_code, need)
        )
        """,
    )

    # Site events after the first carry no code: the site is found by its id.
    rows = Rows(
        "sites",
        "site_id",
        stamps="updated_at = %(at)s, version = %(version)s",
        updates={Site.Closed: "is_open = false, closed_at = %(at)s"},
    )

    def fold(self) -> OccupancyFold:
        return OccupancyFold(self)

    def _run(self, cur: Cursor[Any], statements: Iterable[str], params: dict[str, Any]) -> None:
        for statement in statements:
            self.run(cur, statement, params)

    # --- sites ---------------------------------------------------------------------------

    @handles(Site.Opened)
    def site_opened(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        self.run(
            cur,
            "INSERT INTO {schema}.sites (code, site_id, name, kind, capacity, is_open, "
            "admin1_pcode, admin2_pcode, latitude, longitude, opened_at, updated_at, "
            "version) VALUES (%s, %s, %s, %s, %s, true, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (code) DO NOTHING",
            (
                e.code,
                envelope.originator_id,
                e.name,
                e.kind,
                e.capacity,
                e.admin1_pcode,
                e.admin2_pcode,
                e.latitude,
                e.longitude,
                e.occurred_at,
                e.occurred_at,
                envelope.originator_version,
            ),
        )

    @handles(Site.CapacityChanged)
    def capacity_changed(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(cur, envelope, "capacity = %(capacity)s", capacity=envelope.event.capacity)

    # --- persons -------------------------------------------------------------------------

    @handles(Person.Registered)
    def registered(self, cur: Cursor[Any], envelope: Envelope) -> None:
        e = envelope.event
        r = registration(e)
        self.run(
            cur,
            "INSERT INTO {schema}.counted (person_id, site_code, sex, registered_on, "
            "date_of_birth, estimated_age, needs) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (person_id) DO NOTHING",
            (envelope.originator_id, e.site_code, e.sex, r.registered_on, r.born,
             e.estimated_age, r.needs),
        )  # fmt: skip
        # A new person's contribution is known from the event itself: no need to read it
        # back from ``counted`` (the band matches the generated column, as tests check).
        self.run(
            cur,
            "INSERT INTO {schema}.counts AS c (site_code, sex, age_band, count) "
            "VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (site_code, sex, age_band) DO UPDATE SET count = c.count + 1",
            (e.site_code, e.sex, r.band),
        )
        if r.needs:
            self.run(
                cur,
                "INSERT INTO {schema}.needs AS n (site_code, need, count) "
                "SELECT %s, need, 1 FROM unnest(%s::text[]) AS u(need) "
                "ON CONFLICT (site_code, need) DO UPDATE SET count = n.count + 1",
                (e.site_code, r.needs),
            )

    def _leave(self, cur: Cursor[Any], envelope: Envelope) -> None:
        params = {"id": envelope.originator_id, "site": None}
        self._run(cur, (*_SUBTRACT, _PLACE), params)

    def _arrive(self, cur: Cursor[Any], envelope: Envelope, site_code: str) -> None:
        # Subtract first: harmless when not counted, and exact if a site is ever re-entered
        # without having been left (it cannot today, but a count must never double).
        params = {"id": envelope.originator_id, "site": site_code}
        self._run(cur, (*_SUBTRACT, _PLACE, *_ADD), params)

    @handles(Person.TransferDispatched, Person.Departed, Person.MergedInto)
    def left(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._leave(cur, envelope)

    @handles(Person.TransferReceived)
    def received(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self._arrive(cur, envelope, envelope.event.site_code)

    @handles(Person.PersonalDataErased)
    def erased(self, cur: Cursor[Any], envelope: Envelope) -> None:
        params = {"id": envelope.originator_id, "age": envelope.event.age_at_registration}
        changes = (erasure.OCCUPANCY_COUNTED, *_ADD, erasure.OCCUPANCY_EMPTIED)
        self._run(cur, (*_SUBTRACT, *changes), params)

    @handles(Person.DetailCorrected)
    def corrected(self, cur: Cursor[Any], envelope: Envelope) -> None:
        field, value = envelope.event.field, envelope.event.new_value
        assignment = _CORRECTED.get(field)
        if assignment is None:
            return
        if field == "specific_needs":
            value = with_categories(value or ())
        params = {"id": envelope.originator_id, "v": value}
        update = f"UPDATE {{schema}}.counted SET {assignment} WHERE person_id = %(id)s"
        self._run(cur, (*_SUBTRACT, update, *_ADD), params)


# --- queries ------------------------------------------------------------------------------


def _t(name: str) -> sql.Identifier:
    return sql.Identifier(Occupancy.live_schema(), name)


_SITE_COLUMNS = (
    "code, name, kind, capacity, is_open, admin1_pcode, admin2_pcode, latitude, longitude, "
    "opened_at, closed_at"
)


def list_sites(
    conn: psycopg.Connection[Any], *, include_closed: bool = True
) -> list[dict[str, Any]]:
    """Every site, by code."""
    query = sql.SQL("SELECT " + _SITE_COLUMNS + " FROM {} {} ORDER BY code").format(
        _t("sites"), sql.SQL("" if include_closed else "WHERE is_open")
    )
    return rows_of(conn, query)


def sites_page(
    conn: psycopg.Connection[Any],
    *,
    within: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """Sites by code, one page; with ``within``, only those sites. ``after``: next_cursor."""
    paging.check_limit(limit)
    start = paging.decode_cursor(_SITES, after, (paging.TEXT,))[0] if after else None
    query = sql.SQL(
        "SELECT " + _SITE_COLUMNS + " FROM {} WHERE (%(within)s::text[] IS NULL "
        "OR code = ANY(%(within)s::text[])) AND (%(after)s::text IS NULL OR code > %(after)s) "
        "ORDER BY code LIMIT %(limit)s"
    ).format(_t("sites"))
    chosen = list(within) if within is not None else None
    rows = rows_of(conn, query, {"within": chosen, "after": start, "limit": limit + 1})
    return paging.page_of(_SITES, rows, limit, lambda row: (row["code"],))


_SITES = "sites"


def get_site(conn: psycopg.Connection[Any], code: str) -> dict[str, Any] | None:
    """One site, or None if no site has that code."""
    query = sql.SQL("SELECT " + _SITE_COLUMNS + " FROM {} WHERE code = %s").format(_t("sites"))
    return row_of(conn, query, (code,))


def _empty_matrix() -> dict[str, dict[str, int]]:
    return {sex.value: dict.fromkeys(BAND_NAMES, 0) for sex in Sex}


def _shape(
    site: dict[str, Any],
    counts: list[tuple[str, str, int]],
    needs: list[tuple[str, int]],
    held: int,
) -> dict[str, Any]:
    matrix = _empty_matrix()
    total = 0
    for sex, band, count in counts:
        # A band or sex outside today's vocabulary (an older event) still shows, not vanishes.
        matrix.setdefault(sex, dict.fromkeys(BAND_NAMES, 0))
        matrix[sex][band] = matrix[sex].get(band, 0) + count
        total += count
    by_need = {need.value: 0 for need in SpecificNeed}
    for need, count in needs:
        by_need[need] = by_need.get(need, 0) + count
    capacity = site["capacity"]
    return {
        "site_code": site["code"],
        "name": site["name"],
        "kind": site["kind"],
        "is_open": site["is_open"],
        "capacity": capacity,
        "total": total,
        # Of the total, how many are held (at a holding facility, all of them should be):
        # from the holds register, which follows holds through custody transfers.
        "held": held,
        # None, not infinity, for a site with no capacity (a reception point that only passes
        # people through): a rate is meaningless there.
        "occupancy_rate": round(total / capacity, 4) if capacity else None,
        "by_sex_age": matrix,
        "by_sex": {sex: sum(bands.values()) for sex, bands in matrix.items()},
        "by_age_band": {b: sum(matrix[s].get(b, 0) for s in matrix) for b in BAND_NAMES},
        "by_need": by_need,
    }


def _occupancies(conn: psycopg.Connection[Any], code: str | None) -> list[dict[str, Any]]:
    sites = [get_site(conn, code)] if code is not None else list_sites(conn)
    one_site = sql.SQL("AND site_code = %s" if code is not None else "")
    params = (code,) if code is not None else ()
    counts: dict[str, list[tuple[str, str, int]]] = {}
    query = sql.SQL("SELECT site_code, sex, age_band, count FROM {} WHERE count <> 0 {}").format(
        _t("counts"), one_site
    )
    for site_code, sex, band, count in conn.execute(query, params):
        counts.setdefault(site_code, []).append((sex, band, count))
    needs: dict[str, list[tuple[str, int]]] = {}
    query = sql.SQL("SELECT site_code, need, count FROM {} WHERE count <> 0 {}").format(
        _t("needs"), one_site
    )
    for site_code, need, count in conn.execute(query, params):
        needs.setdefault(site_code, []).append((need, count))
    held = held_counts(conn)
    return [
        _shape(
            site,
            counts.get(site["code"], []),
            needs.get(site["code"], []),
            held.get(site["code"], 0),
        )
        for site in sites
        if site is not None
    ]


def site_occupancy(conn: psycopg.Connection[Any], code: str) -> dict[str, Any] | None:
    """A site's occupancy: total against capacity, sex × age band (zeros filled), by need."""
    found = _occupancies(conn, code)
    return found[0] if found else None


def all_sites_occupancy(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """The occupancy of every site, by code, in three queries."""
    return _occupancies(conn, None)


def occupancy_page(
    conn: psycopg.Connection[Any],
    *,
    within: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page:
    """The occupancy of one page of sites (as ``sites_page``, whose cursors it shares)."""
    sites = sites_page(conn, within=within, after=after, limit=limit)
    codes = {site["code"] for site in sites.rows}
    # A few dozen sites at most in an operation: counting them all is three small queries.
    return Page([o for o in _occupancies(conn, None) if o["site_code"] in codes], sites.next_cursor)
