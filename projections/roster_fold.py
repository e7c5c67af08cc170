"""The roster folded in memory for a rebuild (``projections/folds.py``): one row per
person, changed by each event as the roster's live handlers change it in SQL
(``projections/roster.py``), then written once with COPY."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from typing import Any
from uuid import UUID

from psycopg import Cursor

from campledger.domain.model.corrections import CORRECTABLE
from campledger.domain.model.person import Person
from campledger.domain.model.values import PersonStatus, reckoned_birthday
from campledger.projections.ages import years_before
from campledger.projections.folds import copy_rows
from campledger.projections.name_keys import NAME_FIELDS, name_keys
from campledger.projections.readmodel import Envelope, ReadModel

# What a registration writes, in this order (the live handler's INSERT and the fold's row).
REGISTERED_COLUMNS = (
    "person_id", "registration_number", "site_code", "last_site_code", "status", "sex",
    "date_of_birth", "date_of_birth_precision", "estimated_age", "birth_date_estimate",
    "nationality", "household_id", "relationship", "specific_needs", "given_name",
    "family_name", "given_name_latin", "family_name_latin", "name_keys", "name_order_en",
    "name_order_ar", "biometric_reference", "registered_at", "updated_at", "version",
    "position",
)  # fmt: skip
# Columns a registration leaves at their defaults.
_LATER_COLUMNS = ("screening_steps", "transfer_id", "merged_into", "erased")
COLUMNS = REGISTERED_COLUMNS + _LATER_COLUMNS
CORRECTABLE_COLUMNS = frozenset(CORRECTABLE)

Row = dict[str, Any]


def registered_values(envelope: Envelope) -> tuple[Any, ...]:
    """A registration's row, in ``REGISTERED_COLUMNS`` order."""
    e = envelope.event
    registered_on = e.occurred_at.astimezone(UTC).date()
    precision = e.date_of_birth_precision
    estimate = (
        # Never after the registration day: a baby registered before 1 July of its year.
        min(reckoned_birthday(e.date_of_birth, precision), registered_on)
        if e.date_of_birth is not None
        else years_before(registered_on, e.estimated_age)
    )
    names = (e.given_name, e.family_name, e.given_name_latin, e.family_name_latin)
    return (
        envelope.originator_id, e.registration_number, e.site_code, e.site_code,
        PersonStatus.PRESENT.value, e.sex, e.date_of_birth, precision, e.estimated_age,
        estimate, e.nationality, e.household_id, e.relationship, list(e.specific_needs),
        *names, *name_keys(*names).values(), e.biometric_reference, e.occurred_at,
        e.occurred_at, envelope.originator_version, envelope.position,
    )  # fmt: skip


def _registered_on(row: Row) -> date:
    registered: date = row["registered_at"].astimezone(UTC).date()
    return registered


def _erased(row: Row, e: Any) -> Row:
    # projections/erasure.py's ROSTER, the same in Python.
    age = e.age_at_registration
    return {
        **dict.fromkeys(NAME_FIELDS),
        "name_keys": [], "name_order_en": b"", "name_order_ar": b"",
        "biometric_reference": None, "date_of_birth": None, "date_of_birth_precision": None,
        "estimated_age": age,
        "birth_date_estimate": None if age is None else years_before(_registered_on(row), age),
        "erased": True,
    }  # fmt: skip


def _screened(row: Row, e: Any) -> Row:
    held = e.outcome == PersonStatus.HELD.value
    steps = [step for step in row["screening_steps"] if step != e.step] + [e.step]
    return {"status": PersonStatus.HELD.value if held else row["status"], "screening_steps": steps}


def _corrected(row: Row, e: Any) -> Row:
    field, value = e.field, e.new_value
    if field not in CORRECTABLE_COLUMNS:
        return {}  # a field this read model does not know: the version only
    if field == "specific_needs":
        return {field: list(value or ())}
    if field in NAME_FIELDS:
        names = {name: row[name] for name in NAME_FIELDS} | {field: value}
        return {field: value, **name_keys(*(names[name] for name in NAME_FIELDS))}
    if field == "date_of_birth":
        born = None if value is None else date.fromisoformat(str(value))
        estimate = born or years_before(_registered_on(row), row["estimated_age"])
        precision = None if born is None else "day"
        return {field: born, "birth_date_estimate": estimate, "date_of_birth_precision": precision}
    if field == "estimated_age":
        age = None if value is None else int(value)
        estimate = row["date_of_birth"] or years_before(_registered_on(row), age)
        return {field: age, "birth_date_estimate": estimate}
    return {field: value}


def _received(row: Row, e: Any) -> Row:
    status = PersonStatus.HELD if e.in_custody else PersonStatus.PRESENT
    site = e.site_code
    return {"status": status.value, "site_code": site, "last_site_code": site, "transfer_id": None}


# Each event's change to its person's row; every one also stamps time, version, position.
_CHANGES: dict[type, Callable[[Row, Any], Row]] = {
    Person.Held: lambda row, e: {"status": PersonStatus.HELD.value},
    Person.Released: lambda row, e: {"status": PersonStatus.PRESENT.value},
    Person.RemovedFromManifest: lambda row, e: {"transfer_id": None},
    Person.MarkedUnaccountedFor: lambda row, e: {
        "status": PersonStatus.UNACCOUNTED.value,
        "site_code": None,
    },
    Person.Departed: lambda row, e: {"status": PersonStatus.DEPARTED.value, "transfer_id": None},
    Person.DuplicateMerged: lambda row, e: {},
    Person.PersonalDataErased: _erased,
    Person.ScreeningStepRecorded: _screened,
    Person.PlacedOnManifest: lambda row, e: {"transfer_id": e.transfer_id},
    Person.TransferDispatched: lambda row, e: {
        "status": PersonStatus.IN_TRANSIT.value,
        "site_code": None,
        "last_site_code": e.origin,
        "transfer_id": e.transfer_id,
    },
    Person.TransferReceived: _received,
    Person.MergedInto: lambda row, e: {
        "status": PersonStatus.MERGED.value,
        "site_code": None,
        "merged_into": e.survivor_id,
    },
    Person.DetailCorrected: _corrected,
}


class RosterFold:
    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.rows: dict[UUID, Row] = {}

    def apply(self, envelope: Envelope) -> None:
        event = envelope.event
        if isinstance(event, Person.Registered):
            if envelope.originator_id not in self.rows:  # ON CONFLICT DO NOTHING
                row = dict(zip(REGISTERED_COLUMNS, registered_values(envelope), strict=True))
                row.update(screening_steps=[], transfer_id=None, merged_into=None, erased=False)
                self.rows[envelope.originator_id] = row
            return
        found = self.rows.get(envelope.originator_id)
        if found is None:
            return  # as an UPDATE of no row
        row = found
        changing = _CHANGES.get(type(event))
        if changing is None:
            return  # an event the roster has no handler for
        # Worked out whole before any of it is set: an event that fails changes nothing.
        row.update(changing(row, event))
        row["updated_at"] = event.occurred_at
        row["version"] = envelope.originator_version
        row["position"] = envelope.position

    def write(self, cur: Cursor[Any]) -> None:
        rows = ([row[column] for column in COLUMNS] for row in self.rows.values())
        copy_rows(cur, self.model, "roster", COLUMNS, rows)
