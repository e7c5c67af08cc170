"""The occupancy read model folded in memory for a rebuild (``projections/folds.py``):
sites, what each person contributes and where, and the counts, changed by each event as
the live handlers change them in SQL (``projections/occupancy.py``), then written once
with COPY."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any
from uuid import UUID

from psycopg import Cursor

from campledger.domain.model.needs import with_categories
from campledger.domain.model.person import Person
from campledger.domain.model.site import Site
from campledger.domain.model.values import age_band, age_on, reckoned_birthday
from campledger.projections.folds import copy_rows
from campledger.projections.readmodel import Envelope, ReadModel

SITE_COLUMNS = (
    "code", "site_id", "name", "kind", "capacity", "is_open", "admin1_pcode", "admin2_pcode",
    "latitude", "longitude", "opened_at", "closed_at", "updated_at", "version",
)  # fmt: skip
# ``age_band`` is a generated column: the database works it out from these.
COUNTED_COLUMNS = (
    "person_id", "site_code", "sex", "registered_on", "date_of_birth", "estimated_age", "needs",
)  # fmt: skip
# Corrections that change what a person contributes.
CORRECTED = frozenset({"sex", "date_of_birth", "estimated_age", "specific_needs"})


def years_at_registration(registered_on: date, date_of_birth: date | None) -> int | None:
    """The counted column's age, as PostgreSQL works it out: the year part of
    age(registered_on, date_of_birth), negative (toward zero) for a birth after the day."""
    if date_of_birth is None:
        return None
    if date_of_birth <= registered_on:
        return age_on(date_of_birth, registered_on)
    return -age_on(registered_on, date_of_birth)


@dataclass(frozen=True, slots=True)
class Registration:
    """What a registration puts in ``counted`` and adds to the counts."""

    registered_on: date
    # A year of birth alone counts from 1 July of it (values.reckoned_birthday), or from
    # the registration day for a baby registered before that July.
    born: date | None
    # Codes and their categories: a person counts once under each category (SM) however
    # many of its sub-codes (SM-MN, SM-CI) they carry.
    needs: list[str]
    band: str


def registration(e: Any) -> Registration:
    registered_on = e.occurred_at.astimezone(UTC).date()
    born = None
    if e.date_of_birth is not None:
        born = min(reckoned_birthday(e.date_of_birth, e.date_of_birth_precision), registered_on)
    age = e.estimated_age if born is None else age_on(born, registered_on)
    return Registration(registered_on, born, with_categories(e.specific_needs), age_band(age))


class OccupancyFold:
    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.sites: dict[str, dict[str, Any]] = {}
        self.site_codes: dict[UUID, str] = {}
        self.counted: dict[UUID, dict[str, Any]] = {}
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.needs: Counter[tuple[str, str]] = Counter()

    def apply(self, envelope: Envelope) -> None:
        event = envelope.event
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, envelope, event)

    # --- sites ---------------------------------------------------------------------------

    def _site_opened(self, envelope: Envelope, e: Any) -> None:
        if e.code in self.sites:  # ON CONFLICT (code) DO NOTHING
            return
        self.sites[e.code] = {
            "code": e.code, "site_id": envelope.originator_id, "name": e.name, "kind": e.kind,
            "capacity": e.capacity, "is_open": True, "admin1_pcode": e.admin1_pcode,
            "admin2_pcode": e.admin2_pcode, "latitude": e.latitude, "longitude": e.longitude,
            "opened_at": e.occurred_at, "closed_at": None, "updated_at": e.occurred_at,
            "version": envelope.originator_version,
        }  # fmt: skip
        self.site_codes[envelope.originator_id] = e.code

    def _site_changed(self, envelope: Envelope, e: Any) -> None:
        code = self.site_codes.get(envelope.originator_id)
        if code is None:
            return
        site = self.sites[code]
        if isinstance(e, Site.Closed):
            site.update(is_open=False, closed_at=e.occurred_at)
        else:
            site["capacity"] = e.capacity
        site.update(updated_at=e.occurred_at, version=envelope.originator_version)

    # --- persons -------------------------------------------------------------------------

    def _registered(self, envelope: Envelope, e: Any) -> None:
        r = registration(e)
        self.counted.setdefault(
            envelope.originator_id,
            {
                "person_id": envelope.originator_id, "site_code": e.site_code, "sex": e.sex,
                "registered_on": r.registered_on, "date_of_birth": r.born,
                "estimated_age": e.estimated_age, "needs": r.needs,
            },
        )  # fmt: skip
        self.counts[(e.site_code, e.sex, r.band)] += 1
        for need in r.needs:
            self.needs[(e.site_code, need)] += 1

    def _subtract(self, person: dict[str, Any]) -> None:
        # As the live UPDATE ... FROM: only rows that exist are counted down.
        site = person["site_code"]
        if site is None:
            return
        key = (site, person["sex"], _band(person))
        if key in self.counts:
            self.counts[key] -= 1
        for need in person["needs"]:
            if (site, need) in self.needs:
                self.needs[(site, need)] -= 1

    def _add(self, person: dict[str, Any]) -> None:
        site = person["site_code"]
        if site is None:
            return
        self.counts[(site, person["sex"], _band(person))] += 1
        for need in person["needs"]:
            self.needs[(site, need)] += 1

    def _left(self, envelope: Envelope, e: Any) -> None:
        person = self.counted.get(envelope.originator_id)
        if person is not None:
            self._subtract(person)
            person["site_code"] = None

    def _received(self, envelope: Envelope, e: Any) -> None:
        person = self.counted.get(envelope.originator_id)
        if person is not None:
            self._subtract(person)
            person["site_code"] = e.site_code
            self._add(person)

    def _erased(self, envelope: Envelope, e: Any) -> None:
        person = self.counted.get(envelope.originator_id)
        if person is not None:
            self._subtract(person)
            person.update(date_of_birth=None, estimated_age=e.age_at_registration)
            self._add(person)
        # projections/erasure.py's OCCUPANCY_EMPTIED: every emptied count goes.
        for key in [key for key, count in self.counts.items() if count == 0]:
            del self.counts[key]

    def _corrected(self, envelope: Envelope, e: Any) -> None:
        field, value = e.field, e.new_value
        person = self.counted.get(envelope.originator_id)
        if field not in CORRECTED or person is None:
            return
        if field == "specific_needs":
            change: dict[str, Any] = {"needs": with_categories(value or ())}
        elif field == "date_of_birth":
            change = {field: None if value is None else date.fromisoformat(str(value))}
        elif field == "estimated_age":
            change = {field: None if value is None else int(value)}
        else:
            change = {field: value}
        self._subtract(person)
        person.update(change)
        self._add(person)

    def write(self, cur: Cursor[Any]) -> None:
        model = self.model
        sites = ([site[c] for c in SITE_COLUMNS] for site in self.sites.values())
        copy_rows(cur, model, "sites", SITE_COLUMNS, sites)
        counted = ([p[c] for c in COUNTED_COLUMNS] for p in self.counted.values())
        copy_rows(cur, model, "counted", COUNTED_COLUMNS, counted)
        counts = ((*key, count) for key, count in self.counts.items())
        copy_rows(cur, model, "counts", ("site_code", "sex", "age_band", "count"), counts)
        needs = ((*key, count) for key, count in self.needs.items())
        copy_rows(cur, model, "needs", ("site_code", "need", "count"), needs)


def _band(person: dict[str, Any]) -> str:
    age = years_at_registration(person["registered_on"], person["date_of_birth"])
    return age_band(person["estimated_age"] if age is None else age)


_HANDLERS: dict[type, Callable[[OccupancyFold, Envelope, Any], None]] = {
    Site.Opened: OccupancyFold._site_opened,
    Site.CapacityChanged: OccupancyFold._site_changed,
    Site.Closed: OccupancyFold._site_changed,
    Person.Registered: OccupancyFold._registered,
    Person.TransferDispatched: OccupancyFold._left,
    Person.Departed: OccupancyFold._left,
    Person.MergedInto: OccupancyFold._left,
    Person.TransferReceived: OccupancyFold._received,
    Person.PersonalDataErased: OccupancyFold._erased,
    Person.DetailCorrected: OccupancyFold._corrected,
}
