"""A person: one registered individual, the events that make up their record, and what
may happen to them.

Registration builds the record (``__init__``) and every later event says what it does to
it (``apply``), so replaying the log rebuilds it. Each command checks its rules, then
records one event. The commands are written beside this module by concern and are the
person's methods all the same (see the end of the class): screening, holds and releases
in ``custody``; transfers and departure in ``movements``; corrections in
``corrections``; merging two registrations in ``duplicates``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from campledger.domain.model import (
    corrections,
    custody,
    duplicates,
    erasure,
    errors,
    movements,
    upcasting,
)
from campledger.domain.model.arrival import Arrival
from campledger.domain.model.events import RecordedEvent
from campledger.domain.model.values import PersonStatus, ScreeningOutcome, check_occurred_at


class Person(Aggregate):
    class Event(RecordedEvent):
        pass

    class Registered(Event, Aggregate.Created):
        # v2: specific needs are UNHCR's standard codes (SM-MN, UM, ...); arrivals recorded
        # before v2 carry campledger's first ad hoc codes, which read as their standard
        # code (domain.model.needs.LEGACY_NEEDS): the log is never rewritten.
        # v3: the name may be recorded in two forms, as the person writes it (given_name,
        # family_name: any script) and in Latin letters (the *_latin fields, None when
        # not recorded). Before v3 only the first form existed.
        # v4: ``date_of_birth_precision`` says how much of the date of birth is known:
        # "day", or "year" when only the year is (date_of_birth is then 1 January of that
        # year, and its month and day mean nothing); None without a date of birth. Every
        # date of birth before v4 was a full date: those read as "day".
        class_version = 4
        registration_number: str
        given_name: str
        family_name: str
        sex: str
        date_of_birth: date | None
        estimated_age: int | None
        nationality: str
        household_id: str | None
        relationship: str | None
        biometric_reference: str | None
        specific_needs: tuple[str, ...]
        site_code: str
        given_name_latin: str | None
        family_name_latin: str | None
        date_of_birth_precision: str | None
        upcast_v1_v2 = staticmethod(upcasting.needs_in_standard_codes)
        upcast_v2_v3 = staticmethod(upcasting.no_latin_names)
        upcast_v3_v4 = staticmethod(upcasting.dates_of_birth_to_the_day)

    class ScreeningStepRecorded(Event):
        # v2 added the hold order: a 'held' outcome is a hold, decided by an authority
        # under an order reference, reviewed by a date. Steps recorded before v2 read with
        # empty values (the log never said who ordered those holds).
        class_version = 2
        step: str
        outcome: str
        site_code: str
        reason: str
        authority: str
        order_reference: str
        review_date: date | None
        upcast_v1_v2 = staticmethod(upcasting.no_hold_order)

        def apply(self, person: Person) -> None:
            person.screening[self.step] = self.outcome
            if self.outcome == ScreeningOutcome.HELD:
                person._start_hold(self)

    class Held(Event):
        # v2: the deciding authority, the order reference and the review date (see above).
        class_version = 2
        site_code: str
        reason: str
        authority: str
        order_reference: str
        review_date: date | None
        upcast_v1_v2 = staticmethod(upcasting.no_hold_order)

        def apply(self, person: Person) -> None:
            person._start_hold(self)

    class Released(Event):
        # v2: the authority that ended the hold and its order reference.
        class_version = 2
        site_code: str
        reason: str
        authority: str
        order_reference: str
        upcast_v1_v2 = staticmethod(upcasting.no_release_order)

        def apply(self, person: Person) -> None:
            person.status = PersonStatus.PRESENT
            person.held = False
            person.held_since = None
            person.hold_authority = ""
            person.hold_order_reference = ""
            person.hold_review_date = None

    class PlacedOnManifest(Event):
        # v2 added ``in_custody``: the person was held and travels in custody. Nobody
        # held could be placed on a manifest before v2, so older events read as False.
        class_version = 2
        transfer_id: UUID
        in_custody: bool
        upcast_v1_v2 = staticmethod(upcasting.not_in_custody)

        def apply(self, person: Person) -> None:
            person.transfer_id = self.transfer_id

    class RemovedFromManifest(Event):
        transfer_id: UUID
        reason: str

        def apply(self, person: Person) -> None:
            person.transfer_id = None

    class TransferDispatched(Event):
        # v2: ``in_custody`` as on PlacedOnManifest.
        class_version = 2
        transfer_id: UUID
        origin: str
        destination: str
        in_custody: bool
        upcast_v1_v2 = staticmethod(upcasting.not_in_custody)

        def apply(self, person: Person) -> None:
            person.status = PersonStatus.IN_TRANSIT
            person.site_code = None

    class TransferReceived(Event):
        # v2: ``in_custody``: the person arrived held, so read models that do not follow
        # holds through transit (roster, stays) know the status they arrive in.
        class_version = 2
        transfer_id: UUID
        site_code: str
        in_custody: bool
        upcast_v1_v2 = staticmethod(upcasting.not_in_custody)

        def apply(self, person: Person) -> None:
            # A person received in custody arrives held: the hold travelled with them.
            person.status = PersonStatus.HELD if self.in_custody else PersonStatus.PRESENT
            person.site_code = self.site_code
            person.transfer_id = None

    class MarkedUnaccountedFor(Event):
        transfer_id: UUID

        def apply(self, person: Person) -> None:
            person.status = PersonStatus.UNACCOUNTED

    class Departed(Event):
        site_code: str
        reason: str

        def apply(self, person: Person) -> None:
            person.status = PersonStatus.DEPARTED
            person.departure_reason = self.reason
            # Kept apart from last_occurred_at, which a later correction moves: the
            # retention policy counts from the departure (api/services/retention.py).
            person.departed_at = self.occurred_at

    class DetailCorrected(Event):
        # v2 added ``family_tracing``: the correction joined a household on purpose, as
        # family tracing, by a role allowed to (its members may be at sites outside the
        # actor's). Corrections recorded before v2 were not: they read as False.
        # v3: a correction of specific needs holds UNHCR's standard codes; one recorded
        # before v3 holds the first ad hoc codes, which read as their standard code.
        class_version = 3
        field: str
        new_value: Any
        reason: str
        family_tracing: bool
        upcast_v1_v2 = staticmethod(upcasting.not_family_tracing)
        upcast_v2_v3 = staticmethod(upcasting.corrected_needs_in_standard_codes)

        def apply(self, person: Person) -> None:
            # The value is stored in its JSON form (dates as ISO text, needs as a list).
            value = self.new_value
            if self.field == "date_of_birth":
                # A correction gives a full date (or clears it): the day is known now.
                person.date_of_birth_precision = None if value is None else "day"
                if value is not None:
                    value = date.fromisoformat(value)
            elif self.field == "specific_needs":
                value = tuple(value)
            setattr(person, self.field, value)

    class MergedInto(Event):
        survivor_id: UUID
        reason: str

        def apply(self, person: Person) -> None:
            person.status = PersonStatus.MERGED
            person.merged_into = self.survivor_id
            person.site_code = None

    class DuplicateMerged(Event):
        duplicate_id: UUID
        duplicate_registration_number: str
        reason: str

    class PersonalDataErased(Event):
        # Holds no personal data: the basis is a code, the order reference an authority's.
        # The person's key is destroyed in the transaction that stores this event.
        basis: str
        order_reference: str
        # What the counts need once the date of birth no longer opens (erasure.py).
        age_at_registration: int | None

        def apply(self, person: Person) -> None:
            erasure.forget_personal_data(person)

    # --- registration -------------------------------------------------------------

    @classmethod
    def register(
        cls, *, person_id: UUID, arrival: Arrival, site_code: str, actor: str, now: datetime
    ) -> Person:
        """A new person from a validated arrival (see ``Arrival.validate``)."""
        return cls._create(
            cls.Registered,
            id=person_id,
            **arrival.details(),
            site_code=site_code,
            actor=actor,
            occurred_at=arrival.occurred_at or now,
        )

    @event(Registered)
    def __init__(
        self,
        registration_number: str,
        given_name: str,
        family_name: str,
        sex: str,
        date_of_birth: date | None,
        estimated_age: int | None,
        nationality: str,
        household_id: str | None,
        relationship: str | None,
        biometric_reference: str | None,
        specific_needs: tuple[str, ...],
        site_code: str,
        actor: str,
        occurred_at: datetime,
        given_name_latin: str | None,
        family_name_latin: str | None,
        date_of_birth_precision: str | None,
    ) -> None:
        self.registration_number = registration_number
        self.given_name = given_name
        self.family_name = family_name
        self.given_name_latin = given_name_latin
        self.family_name_latin = family_name_latin
        self.sex = sex
        self.date_of_birth = date_of_birth
        self.date_of_birth_precision = date_of_birth_precision
        self.estimated_age = estimated_age
        self.nationality = nationality
        self.household_id = household_id
        self.relationship = relationship
        self.biometric_reference = biometric_reference
        self.specific_needs = tuple(specific_needs)
        self.site_code: str | None = site_code
        self.status = PersonStatus.PRESENT
        self.transfer_id: UUID | None = None
        self.screening: dict[str, str] = {}
        self.merged_into: UUID | None = None
        self.departure_reason: str | None = None
        self.departed_at: datetime | None = None
        self.registered_at = occurred_at
        self.last_occurred_at = occurred_at
        # The hold is a fact apart from where the person is: a held person stays held in
        # transit and on arrival (``status`` says where; ``held`` says under whose order).
        self.held = False
        self.held_since: datetime | None = None
        self.hold_authority = ""
        self.hold_order_reference = ""
        self.hold_review_date: date | None = None
        self.erased = False

    def _start_hold(self, order: Person.Held | Person.ScreeningStepRecorded) -> None:
        # A second 'held' outcome while held renews the order; the hold began earlier.
        if not self.held:
            self.held_since = order.occurred_at
        self.held = True
        self.status = PersonStatus.HELD
        self.hold_authority = order.authority
        self.hold_order_reference = order.order_reference
        self.hold_review_date = order.review_date

    # --- rules every command checks ------------------------------------------------

    def check_time(self, occurred_at: datetime, now: datetime) -> None:
        check_occurred_at(occurred_at, now, self.last_occurred_at)

    def check_not_merged(self) -> None:
        if self.status == PersonStatus.MERGED:
            raise errors.PersonMerged(
                f"person {self.id} was merged into another record", person=str(self.id)
            )

    def check_active(self) -> None:
        """Departed and merged records are closed: nothing more may happen to them."""
        self.check_not_merged()
        if self.status == PersonStatus.DEPARTED:
            raise errors.PersonDeparted(f"person {self.id} has departed", person=str(self.id))

    def check_on_site(self) -> str:
        """The site the person is at; raises if they are at none."""
        self.check_active()
        if self.status == PersonStatus.IN_TRANSIT:
            raise errors.PersonInTransit(f"person {self.id} is in transit", person=str(self.id))
        if self.status == PersonStatus.UNACCOUNTED:
            raise errors.PersonUnaccountedFor(
                f"person {self.id} is unaccounted for", person=str(self.id)
            )
        assert self.site_code is not None
        return self.site_code

    def check_movable_from(self, origin: str) -> None:
        if self.check_on_site() != origin:
            raise errors.PersonNotAtSite(
                f"person {self.id} is not at site {origin}", person=str(self.id), site=origin
            )

    def check_not_on_manifest(self) -> None:
        if self.transfer_id is not None:
            raise errors.PersonOnAnotherManifest(
                f"person {self.id} is already on the manifest of transfer {self.transfer_id}",
                person=str(self.id),
                transfer=str(self.transfer_id),
            )

    def check_on_manifest(self, transfer_id: UUID) -> None:
        if self.transfer_id != transfer_id:
            raise errors.PersonNotOnManifest(
                f"person {self.id} is not on the manifest of transfer {transfer_id}",
                person=str(self.id),
            )

    def check_travelling(self, transfer_id: UUID, *statuses: PersonStatus) -> None:
        """On this transfer, in one of ``statuses`` (in transit, or unaccounted for)."""
        if self.transfer_id != transfer_id or self.status not in statuses:
            raise errors.PersonNotOnManifest(
                f"person {self.id} is not travelling on transfer {transfer_id}",
                person=str(self.id),
            )

    # --- what may happen to a person ----------------------------------------------
    # Thirteen events and their rules are more than one module can show at once: each
    # concern's commands are functions of the person in their own module, and are
    # assigned here as this class's methods.

    record_screening_step = custody.record_screening_step
    hold = custody.hold
    release = custody.release
    place_on_manifest = movements.place_on_manifest
    remove_from_manifest = movements.remove_from_manifest
    dispatch = movements.dispatch
    receive = movements.receive
    mark_unaccounted_for = movements.mark_unaccounted_for
    depart = movements.depart
    correct = corrections.correct
    merge_into = duplicates.merge
    erase_personal_data = erasure.erase
