"""The roster: one row per person with where they are now and what we know of them.

``site_code`` is where the person physically is: NULL while in transit, unaccounted
for or merged. A departed person keeps the site they left from (as the domain does),
so a site can list its departures with ``status='departed'``; ``last_site_code`` is the
last site the person was at, whatever happened since.

Personal data (names, date of birth, biometric reference) is stored here and only
here, and a query returns it only when asked with ``include_personal=True``. So are what
is made from names to find and sort people by (``name_keys``: the sound key of every word
of both forms of the name, ``projections.names.search_keys``; ``name_order_*``: a sort key
per console language, ``projections.collation``): never returned.
``birth_date_estimate`` is the date of birth or, when only an age was estimated, the
registration date minus that many years: it lets the age band be computed for any
day at query time. It reveals the date of birth, so it is personal too.
``screening_steps``: each screening step the person has had, whatever its outcome.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Cursor, sql

from campledger.domain.model.needs import needs_within, parse_need
from campledger.domain.model.person import Person
from campledger.domain.model.values import (
    PersonStatus,
)
from campledger.projections import erasure, paging
from campledger.projections.ages import age_band_bounds, estimate_corrected
from campledger.projections.collation import Locale
from campledger.projections.name_keys import NAME_FIELDS, name_keys
from campledger.projections.names import search_keys
from campledger.projections.paging import Page
from campledger.projections.readmodel import Envelope, ReadModel, Rows, handles
from campledger.projections.roster_fold import (
    CORRECTABLE_COLUMNS,
    REGISTERED_COLUMNS,
    RosterFold,
    registered_values,
)
from campledger.projections.roster_rows import (
    BY_NAME_KEY,
    KEY,
    KIND,
    PAGE_COLUMNS,
    PAGE_COLUMNS_NOT_PERSONAL,
    RosterOrder,
    by_name_key,
    public_row,
    registration_key,
)
from campledger.projections.rows import row_of, rows_of

# Columns returned only with include_personal (birth_date_estimate equals the date of birth
# whenever one is known).

_INSERT_REGISTERED = (
    f"INSERT INTO {{schema}}.roster ({', '.join(REGISTERED_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(REGISTERED_COLUMNS))}) ON CONFLICT (person_id) DO NOTHING"
)

_ON_SITE = (PersonStatus.PRESENT.value, PersonStatus.HELD.value)


class Roster(ReadModel):
    name = "roster"
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS {schema}.roster (
            person_id uuid PRIMARY KEY,
            -- "C" collation: the same page order on every server, whatever its locale.
            registration_number text COLLATE "C" NOT NULL,
            site_code text,
            last_site_code text,
            status text NOT NULL,
            sex text NOT NULL,
            date_of_birth date,
            -- 'year' when only the year of birth is known (date_of_birth is 1 January).
            date_of_birth_precision text,
            estimated_age integer,
            birth_date_estimate date,
            nationality text NOT NULL,
            household_id text,
            relationship text,
            specific_needs text[] NOT NULL DEFAULT '{{}}',
            screening_steps text[] NOT NULL DEFAULT '{{}}',
            transfer_id uuid,
            merged_into uuid,
            given_name text,
            family_name text,
            given_name_latin text,
            family_name_latin text,
            name_keys text[] NOT NULL,
            name_order_en bytea NOT NULL,
            name_order_ar bytea NOT NULL,
            biometric_reference text,
            -- The person's personal data was erased: the columns above hold none of it.
            erased boolean NOT NULL DEFAULT false,
            registered_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            version integer NOT NULL,
            position bigint NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS roster_site_page "
        "ON {schema}.roster (site_code, registration_number, person_id)",
        "CREATE INDEX IF NOT EXISTS roster_household ON {schema}.roster (household_id) "
        "WHERE household_id IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS roster_name_keys ON {schema}.roster USING gin (name_keys)",
        "CREATE INDEX IF NOT EXISTS roster_site_name_en "
        "ON {schema}.roster (site_code, name_order_en, person_id)",
        "CREATE INDEX IF NOT EXISTS roster_site_name_ar "
        "ON {schema}.roster (site_code, name_order_ar, person_id)",
    )

    # Every event stamps the person's row with its time, version and position.
    rows = Rows(
        "roster",
        "person_id",
        stamps="updated_at = %(at)s, version = %(version)s, position = %(position)s",
        updates={
            Person.Held: "status = 'held'",
            Person.Released: "status = 'present'",
            Person.RemovedFromManifest: "transfer_id = NULL",
            Person.MarkedUnaccountedFor: "status = 'unaccounted', site_code = NULL",
            Person.Departed: "status = 'departed', transfer_id = NULL",
            Person.DuplicateMerged: "status = status",
        },
    )

    @handles(Person.Registered)
    def registered(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.run(cur, _INSERT_REGISTERED, registered_values(envelope))

    def fold(self) -> RosterFold:
        return RosterFold(self)

    @handles(Person.PersonalDataErased)
    def erased(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(cur, envelope, erasure.ROSTER, age=envelope.event.age_at_registration)

    @handles(Person.ScreeningStepRecorded)
    def screened(self, cur: Cursor[Any], envelope: Envelope) -> None:
        # Only a 'held' outcome changes the status; a step recorded again is kept once.
        self.set(
            cur,
            envelope,
            "status = CASE WHEN %(outcome)s = 'held' THEN 'held' ELSE status END, "
            "screening_steps = array_remove(screening_steps, %(step)s) || %(step)s::text",
            outcome=envelope.event.outcome,
            step=envelope.event.step,
        )

    @handles(Person.PlacedOnManifest)
    def placed(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(cur, envelope, "transfer_id = %(t)s", t=envelope.event.transfer_id)

    @handles(Person.TransferDispatched)
    def dispatched(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(
            cur,
            envelope,
            "status = 'in_transit', site_code = NULL, last_site_code = %(origin)s, "
            "transfer_id = %(t)s",
            origin=envelope.event.origin,
            t=envelope.event.transfer_id,
        )

    @handles(Person.TransferReceived)
    def received(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(
            cur,
            envelope,
            # A person received in custody arrives held.
            "status = %(status)s, site_code = %(site)s, last_site_code = %(site)s, "
            "transfer_id = NULL",
            site=envelope.event.site_code,
            status="held" if envelope.event.in_custody else "present",
        )

    @handles(Person.MergedInto)
    def merged(self, cur: Cursor[Any], envelope: Envelope) -> None:
        self.set(
            cur,
            envelope,
            "status = 'merged', site_code = NULL, merged_into = %(s)s",
            s=envelope.event.survivor_id,
        )

    @handles(Person.DetailCorrected)
    def corrected(self, cur: Cursor[Any], envelope: Envelope) -> None:
        field, value = envelope.event.field, envelope.event.new_value
        if field not in CORRECTABLE_COLUMNS:
            # A field this read model does not know (a newer domain): record the version only.
            self.set(cur, envelope, "status = status")
            return
        if field == "specific_needs":
            value = list(value or ())
        if field in NAME_FIELDS:
            self._rename(cur, envelope, field, value)
            return
        assignment = f"{field} = %(v)s"
        if field in ("date_of_birth", "estimated_age"):
            assignment += f", birth_date_estimate = {estimate_corrected(field)}"
        if field == "date_of_birth":
            # A correction gives a full date, or clears it (domain.person.DetailCorrected).
            assignment += (
                ", date_of_birth_precision = CASE WHEN %(v)s::date IS NULL THEN NULL ELSE 'day' END"
            )
        self.set(cur, envelope, assignment, v=value)

    def _rename(self, cur: Cursor[Any], envelope: Envelope, field: str, value: Any) -> None:
        # The search and sort keys are made from all four name fields: read the other three.
        self.run(
            cur,
            "SELECT given_name, family_name, given_name_latin, family_name_latin "
            "FROM {schema}.roster WHERE person_id = %s",
            (envelope.originator_id,),
        )
        row = cur.fetchone()
        if row is None:
            return
        names = dict(zip(NAME_FIELDS, row, strict=True)) | {field: value}
        keys = name_keys(*(names[f] for f in NAME_FIELDS))
        assignments = ", ".join(f"{column} = %({column})s" for column in keys)
        self.set(cur, envelope, f"{field} = %(v)s, {assignments}", v=value, **keys)


# --- queries ------------------------------------------------------------------------------


def roster_page(
    conn: psycopg.Connection[Any],
    site_code: str | None,
    *,
    status: str | None = None,
    sex: str | None = None,
    age_band: str | None = None,
    nationality: str | None = None,
    specific_need: str | None = None,
    household_id: str | None = None,
    registration_number: str | None = None,
    without_step: str | None = None,
    name: str | None = None,
    order: RosterOrder = RosterOrder.REGISTRATION_NUMBER,
    locale: Locale = Locale.EN,
    after: str | None = None,
    limit: int = 100,
    include_personal: bool = False,
    today: date | None = None,
) -> Page:
    """One page of a site's roster in registration-number order, or by name as readers of
    ``locale`` expect (``projections.collation``).

    With no status, the roster is who is at the site now: present and held. A status
    narrows to it (``departed`` lists those who left from this site). ``site_code=None``
    searches every site (e.g. everyone unaccounted for). ``name`` finds a person by any
    spelling of their name in either script (every word given must be in the name; a
    name with no letters finds nobody).
    ``after`` is the previous page's ``next_cursor``; the age band is the band on
    ``today`` (default: today in UTC).
    """
    paging.check_limit(limit)
    today = today or datetime.now(UTC).date()
    where: list[sql.Composable] = []
    params: list[Any] = []
    if site_code is not None:
        where.append(sql.SQL("site_code = %s"))
        params.append(site_code)
    if status is None:
        where.append(sql.SQL("status = ANY(%s)"))
        params.append(list(_ON_SITE))
    else:
        where.append(sql.SQL("status = %s"))
        params.append(PersonStatus(status).value)
    for column, value in (
        ("sex", sex),
        ("nationality", nationality),
        ("household_id", household_id),
        ("registration_number", registration_number),
    ):
        if value is not None:
            where.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if specific_need is not None:
        # A category (SM) finds its sub-codes too (SM-MN); an unknown code is refused
        # rather than read as "nobody has that need".
        where.append(sql.SQL("specific_needs && %s::text[]"))
        params.append(list(needs_within(parse_need(specific_need))))
    if without_step is not None:
        where.append(sql.SQL("NOT (%s = ANY(screening_steps))"))
        params.append(without_step)
    if age_band is not None:
        born_after, born_by = age_band_bounds(age_band, today)
        where.append(sql.SQL("birth_date_estimate <= %s"))
        params.append(born_by)
        if born_after is not None:
            where.append(sql.SQL("birth_date_estimate > %s"))
            params.append(born_after)
    if name is not None:
        # A name with nothing to search by ("--") finds nobody: never everyone.
        keys = search_keys(name)
        where.append(sql.SQL("name_keys @> %s::text[] AND %s"))
        params.extend((keys, bool(keys)))
    table = sql.Identifier(Roster.live_schema(), "roster")
    if order is RosterOrder.NAME:
        kind, sort = f"{KIND}-by-name-{locale}", sql.Identifier(f"name_order_{locale}")
        if after is not None:
            where.append(
                sql.SQL(
                    "({sort}, person_id) > ((SELECT {sort} FROM {table} WHERE person_id = %s), %s)"
                ).format(sort=sort, table=table)
            )
            [last] = paging.decode_cursor(kind, after, BY_NAME_KEY)
            params.extend((last, last))
        key: Any = by_name_key
    else:
        kind, sort = KIND, sql.Identifier("registration_number")
        if after is not None:
            where.append(sql.SQL("(registration_number, person_id) > (%s, %s)"))
            params.extend(paging.decode_cursor(kind, after, KEY))
        key = registration_key
    query = sql.SQL(
        "SELECT {columns} FROM {table} WHERE {where} ORDER BY {sort}, person_id LIMIT %s"
    ).format(
        columns=PAGE_COLUMNS if include_personal else PAGE_COLUMNS_NOT_PERSONAL,
        table=table,
        where=sql.SQL(" AND ").join(where),
        sort=sort,
    )
    params.append(limit + 1)
    rows = rows_of(conn, query, params)
    page = paging.page_of(kind, rows, limit, key)
    return Page([public_row(r, include_personal, today) for r in page.rows], page.next_cursor)


def get_person_row(
    conn: psycopg.Connection[Any],
    person_id: UUID,
    include_personal: bool = False,
    *,
    today: date | None = None,
) -> dict[str, Any] | None:
    """One person's roster row, or None if nobody has that id."""
    query = sql.SQL("SELECT * FROM {} WHERE person_id = %s").format(
        sql.Identifier(Roster.live_schema(), "roster")
    )
    row = row_of(conn, query, (person_id,))
    if row is None:
        return None
    return public_row(row, include_personal, today or datetime.now(UTC).date())
