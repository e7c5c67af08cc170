"""A person: one registered individual and everything that happens to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from campledger.domain.model import errors
from campledger.domain.model.arrival import Arrival
from campledger.domain.model.corrections import decode_correction, parse_correction
from campledger.domain.model.needs import upcast_needs
from campledger.domain.model.values import (
    CUSTODY_SITE_KINDS,
    DepartureReason,
    PersonStatus,
    ScreeningOutcome,
    ScreeningStep,
    check_occurred_at,
    check_text,
    parse_enum,
)


class Person(Aggregate):
    class Registered(Aggregate.Created):
        # v2: specific needs are UNHCR's standard codes (SM-MN, UM, ...); arrivals recorded
        # before v2 carry campledger's first ad hoc codes, which read as their standard
        # code (domain.needs.LEGACY_NEEDS): the log is never rewritten.
        # v3: the name may be recorded in two forms, as the person writes it (given_name,
        # family_name: any script) and in Latin letters (the *_latin fields, None when
        # not recorded). Before v3 only the first form existed.
        class_version = 3
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
        actor: str
        occurred_at: datetime
        given_name_latin: str | None
        family_name_latin: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["specific_needs"] = upcast_needs(state.get("specific_needs")) or []

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(given_name_latin=None, family_name_latin=None)

    class ScreeningStepRecorded(Aggregate.Event):
        # v2 added the hold order: a 'held' outcome is a hold, decided by an authority
        # under an order reference, reviewed by a date. Steps recorded before v2 read with
        # empty values (the log never said who ordered those holds).
        class_version = 2
        step: str
        outcome: str
        site_code: str
        reason: str
        actor: str
        occurred_at: datetime
        authority: str
        order_reference: str
        review_date: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(authority="", order_reference="", review_date=None)

    class Held(Aggregate.Event):
        # v2: the deciding authority, the order reference and the review date (see above).
        class_version = 2
        site_code: str
        reason: str
        actor: str
        occurred_at: datetime
        authority: str
        order_reference: str
        review_date: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(authority="", order_reference="", review_date=None)

    class Released(Aggregate.Event):
        # v2: the authority that ended the hold and its order reference.
        class_version = 2
        site_code: str
        reason: str
        actor: str
        occurred_at: datetime
        authority: str
        order_reference: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(authority="", order_reference="")

    class PlacedOnManifest(Aggregate.Event):
        # v2 added ``in_custody``: the person was held and travels in custody. Nobody
        # held could be placed on a manifest before v2, so older events read as False.
        class_version = 2
        transfer_id: UUID
        actor: str
        occurred_at: datetime
        in_custody: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["in_custody"] = False

    class RemovedFromManifest(Aggregate.Event):
        transfer_id: UUID
        reason: str
        actor: str
        occurred_at: datetime

    class TransferDispatched(Aggregate.Event):
        # v2: ``in_custody`` as on PlacedOnManifest.
        class_version = 2
        transfer_id: UUID
        origin: str
        destination: str
        actor: str
        occurred_at: datetime
        in_custody: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["in_custody"] = False

    class TransferReceived(Aggregate.Event):
        # v2: ``in_custody``: the person arrived held, so read models that do not follow
        # holds through transit (roster, stays) know the status they arrive in.
        class_version = 2
        transfer_id: UUID
        site_code: str
        actor: str
        occurred_at: datetime
        in_custody: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["in_custody"] = False

    class MarkedUnaccountedFor(Aggregate.Event):
        transfer_id: UUID
        actor: str
        occurred_at: datetime

    class Departed(Aggregate.Event):
        site_code: str
        reason: str
        actor: str
        occurred_at: datetime

    class DetailCorrected(Aggregate.Event):
        # v2 added ``family_tracing``: the correction joined a household on purpose, as
        # family tracing, by a role allowed to (its members may be at sites outside the
        # actor's). Corrections recorded before v2 were not: they read as False.
        # v3: a correction of specific needs holds UNHCR's standard codes; one recorded
        # before v3 holds the first ad hoc codes, which read as their standard code.
        class_version = 3
        field: str
        new_value: Any
        reason: str
        actor: str
        occurred_at: datetime
        family_tracing: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["family_tracing"] = False

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            if state.get("field") == "specific_needs":
                state["new_value"] = upcast_needs(state.get("new_value"))

    class MergedInto(Aggregate.Event):
        survivor_id: UUID
        reason: str
        actor: str
        occurred_at: datetime

    class DuplicateMerged(Aggregate.Event):
        duplicate_id: UUID
        duplicate_registration_number: str
        reason: str
        actor: str
        occurred_at: datetime

    # --- registration -------------------------------------------------------------

    @classmethod
    def register(
        cls, *, person_id: UUID, arrival: Arrival, site_code: str, actor: str, now: datetime
    ) -> Person:
        """A new person from a validated arrival (see ``Arrival.validate``)."""
        return cls._create(
            cls.Registered,
            id=person_id,
            registration_number=arrival.registration_number,
            given_name=arrival.given_name,
            family_name=arrival.family_name,
            sex=arrival.sex,
            date_of_birth=arrival.date_of_birth,
            estimated_age=arrival.estimated_age,
            nationality=arrival.nationality,
            household_id=arrival.household_id,
            relationship=arrival.relationship,
            biometric_reference=arrival.biometric_reference,
            specific_needs=arrival.specific_needs,
            site_code=site_code,
            actor=actor,
            occurred_at=arrival.occurred_at or now,
            given_name_latin=arrival.given_name_latin,
            family_name_latin=arrival.family_name_latin,
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
    ) -> None:
        self.registration_number = registration_number
        self.given_name = given_name
        self.family_name = family_name
        self.given_name_latin = given_name_latin
        self.family_name_latin = family_name_latin
        self.sex = sex
        self.date_of_birth = date_of_birth
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
        self.registered_at = occurred_at
        self.last_occurred_at = occurred_at
        # The hold is a fact apart from where the person is: a held person stays held in
        # transit and on arrival (``status`` says where; ``held`` says under whose order).
        self.held = False
        self.held_since: datetime | None = None
        self.hold_authority = ""
        self.hold_order_reference = ""
        self.hold_review_date: date | None = None

    # --- rules shared by commands ------------------------------------------------

    def check_time(self, occurred_at: datetime, now: datetime) -> None:
        check_occurred_at(occurred_at, now, self.last_occurred_at)

    def check_active(self) -> None:
        """Departed and merged records are closed: nothing more may happen to them."""
        if self.status == PersonStatus.MERGED:
            raise errors.PersonMerged(
                f"person {self.id} was merged into another record", person=str(self.id)
            )
        if self.status == PersonStatus.DEPARTED:
            raise errors.PersonDeparted(f"person {self.id} has departed", person=str(self.id))

    def check_on_site(self) -> None:
        self.check_active()
        if self.status == PersonStatus.IN_TRANSIT:
            raise errors.PersonInTransit(f"person {self.id} is in transit", person=str(self.id))
        if self.status == PersonStatus.UNACCOUNTED:
            raise errors.PersonUnaccountedFor(
                f"person {self.id} is unaccounted for", person=str(self.id)
            )

    def check_movable_from(self, origin: str) -> None:
        self.check_on_site()
        if self.site_code != origin:
            raise errors.PersonNotAtSite(
                f"person {self.id} is not at site {origin}", person=str(self.id), site=origin
            )

    def check_custody(self, destination: str, destination_kind: str) -> None:
        """A held person moves only in custody, and only where custody can be kept."""
        if self.held and destination_kind not in CUSTODY_SITE_KINDS:
            raise errors.PersonHeld(
                f"person {self.id} is held: a held person may be moved only in custody, to a "
                f"holding facility or a hospital, and {destination} is a {destination_kind} "
                "site; release them first to move them there",
                person=str(self.id),
                site=destination,
            )

    def check_not_on_manifest(self) -> None:
        if self.transfer_id is not None:
            raise errors.PersonOnAnotherManifest(
                f"person {self.id} is already on the manifest of transfer {self.transfer_id}",
                person=str(self.id),
                transfer=str(self.transfer_id),
            )

    # --- screening and holding -----------------------------------------------------

    def record_screening_step(
        self,
        *,
        step: str,
        outcome: str,
        reason: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
        authority: str = "",
        order_reference: str = "",
        review_date: date | None = None,
    ) -> None:
        """A 'held' outcome holds the person on the order given (see ``hold``); any other
        outcome takes no order, so none may be sent with it."""
        step = parse_enum(ScreeningStep, step, errors.InvalidScreeningStep).value
        outcome = parse_enum(ScreeningOutcome, outcome, errors.InvalidScreeningOutcome).value
        reason = check_text("reason", reason, max_length=500, required=False)
        authority, order_reference = _check_order(authority, order_reference)
        if outcome != ScreeningOutcome.HELD and (authority or order_reference or review_date):
            raise errors.InvalidInput(
                "an authority, order reference or review date goes with a 'held' outcome only"
            )
        self.check_on_site()
        self.check_time(occurred_at, now)
        _check_review_date(review_date, occurred_at)
        assert self.site_code is not None
        self._screening_step_recorded(
            step=step,
            outcome=outcome,
            site_code=self.site_code,
            reason=reason,
            actor=actor,
            occurred_at=occurred_at,
            authority=authority,
            order_reference=order_reference,
            review_date=review_date,
        )

    @event(ScreeningStepRecorded)
    def _screening_step_recorded(
        self,
        step: str,
        outcome: str,
        site_code: str,
        reason: str,
        actor: str,
        occurred_at: datetime,
        authority: str,
        order_reference: str,
        review_date: date | None,
    ) -> None:
        self.screening[step] = outcome
        if outcome == ScreeningOutcome.HELD:
            self._start_hold(occurred_at, authority, order_reference, review_date)
        self.last_occurred_at = occurred_at

    def _start_hold(
        self, at: datetime, authority: str, order_reference: str, review_date: date | None
    ) -> None:
        # A second 'held' outcome while held renews the order; the hold began earlier.
        if not self.held:
            self.held_since = at
        self.held = True
        self.status = PersonStatus.HELD
        self.hold_authority = authority
        self.hold_order_reference = order_reference
        self.hold_review_date = review_date

    def hold(
        self,
        *,
        reason: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
        authority: str = "",
        order_reference: str = "",
        review_date: date | None = None,
    ) -> None:
        """Hold a person for further investigation, on an authority's order.

        Every way in for people (HTTP, offline sync) requires the authority and the order
        reference (``api.schemas.HoldCreate``); the domain accepts a hold without them so
        that in-process callers and holds recorded before they existed stay valid.
        """
        self.check_on_site()
        if self.held:
            raise errors.PersonHeld(f"person {self.id} is already held", person=str(self.id))
        authority, order_reference = _check_order(authority, order_reference)
        self.check_time(occurred_at, now)
        _check_review_date(review_date, occurred_at)
        assert self.site_code is not None
        self._held(
            site_code=self.site_code,
            reason=check_text("reason", reason, max_length=500),
            actor=actor,
            occurred_at=occurred_at,
            authority=authority,
            order_reference=order_reference,
            review_date=review_date,
        )

    @event(Held)
    def _held(
        self,
        site_code: str,
        reason: str,
        actor: str,
        occurred_at: datetime,
        authority: str,
        order_reference: str,
        review_date: date | None,
    ) -> None:
        self._start_hold(occurred_at, authority, order_reference, review_date)
        self.last_occurred_at = occurred_at

    def release(
        self,
        *,
        reason: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
        authority: str = "",
        order_reference: str = "",
    ) -> None:
        """End a hold (at a site: a person in custody is released where they arrived)."""
        self.check_on_site()
        if not self.held:
            raise errors.PersonNotHeld(f"person {self.id} is not held", person=str(self.id))
        authority, order_reference = _check_order(authority, order_reference)
        self.check_time(occurred_at, now)
        assert self.site_code is not None
        self._released(
            site_code=self.site_code,
            reason=check_text("reason", reason, max_length=500),
            actor=actor,
            occurred_at=occurred_at,
            authority=authority,
            order_reference=order_reference,
        )

    @event(Released)
    def _released(
        self,
        site_code: str,
        reason: str,
        actor: str,
        occurred_at: datetime,
        authority: str,
        order_reference: str,
    ) -> None:
        self.status = PersonStatus.PRESENT
        self.held = False
        self.held_since = None
        self.hold_authority = ""
        self.hold_order_reference = ""
        self.hold_review_date = None
        self.last_occurred_at = occurred_at

    # --- transfers -------------------------------------------------------------------

    def place_on_manifest(
        self,
        *,
        transfer_id: UUID,
        origin: str,
        destination: str,
        destination_kind: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> None:
        """Reserve the person for a transfer; a held person travels in custody."""
        self.check_movable_from(origin)
        self.check_custody(destination, destination_kind)
        self.check_not_on_manifest()
        self.check_time(occurred_at, now)
        self._placed_on_manifest(
            transfer_id=transfer_id, actor=actor, occurred_at=occurred_at, in_custody=self.held
        )

    @event(PlacedOnManifest)
    def _placed_on_manifest(
        self, transfer_id: UUID, actor: str, occurred_at: datetime, in_custody: bool
    ) -> None:
        self.transfer_id = transfer_id
        self.last_occurred_at = occurred_at

    def remove_from_manifest(
        self,
        *,
        transfer_id: UUID,
        reason: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> None:
        if self.transfer_id != transfer_id:
            raise errors.PersonNotOnManifest(
                f"person {self.id} is not on the manifest of transfer {transfer_id}",
                person=str(self.id),
            )
        self.check_time(occurred_at, now)
        self._removed_from_manifest(
            transfer_id=transfer_id, reason=reason, actor=actor, occurred_at=occurred_at
        )

    @event(RemovedFromManifest)
    def _removed_from_manifest(
        self, transfer_id: UUID, reason: str, actor: str, occurred_at: datetime
    ) -> None:
        self.transfer_id = None
        self.last_occurred_at = occurred_at

    def dispatch(
        self,
        *,
        transfer_id: UUID,
        origin: str,
        destination: str,
        destination_kind: str,
        in_custody: bool,
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> None:
        """Leave the origin; ``in_custody`` is what the manifest says of this person."""
        if self.transfer_id != transfer_id:
            raise errors.PersonNotOnManifest(
                f"person {self.id} is not on the manifest of transfer {transfer_id}",
                person=str(self.id),
            )
        self.check_movable_from(origin)
        self.check_custody(destination, destination_kind)
        if self.held != in_custody:
            # Held or released since the manifest was planned: the manifest no longer says
            # who travels in custody, and an escort goes by the manifest.
            raise errors.CustodyChanged(
                f"person {self.id} was {'held' if self.held else 'released'} after transfer "
                f"{transfer_id} was planned; cancel the transfer and plan it again",
                person=str(self.id),
                transfer=str(transfer_id),
            )
        self.check_time(occurred_at, now)
        self._transfer_dispatched(
            transfer_id=transfer_id,
            origin=origin,
            destination=destination,
            actor=actor,
            occurred_at=occurred_at,
            in_custody=in_custody,
        )

    @event(TransferDispatched)
    def _transfer_dispatched(
        self,
        transfer_id: UUID,
        origin: str,
        destination: str,
        actor: str,
        occurred_at: datetime,
        in_custody: bool,
    ) -> None:
        self.status = PersonStatus.IN_TRANSIT
        self.site_code = None
        self.last_occurred_at = occurred_at

    def receive(
        self,
        *,
        transfer_id: UUID,
        site_code: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> None:
        self.check_active()
        if self.transfer_id != transfer_id or self.status not in (
            PersonStatus.IN_TRANSIT,
            PersonStatus.UNACCOUNTED,
        ):
            raise errors.PersonNotOnManifest(
                f"person {self.id} is not travelling on transfer {transfer_id}",
                person=str(self.id),
            )
        self.check_time(occurred_at, now)
        self._transfer_received(
            transfer_id=transfer_id,
            site_code=site_code,
            actor=actor,
            occurred_at=occurred_at,
            in_custody=self.held,
        )

    @event(TransferReceived)
    def _transfer_received(
        self, transfer_id: UUID, site_code: str, actor: str, occurred_at: datetime, in_custody: bool
    ) -> None:
        # A person received in custody arrives held: the hold travelled with them.
        self.status = PersonStatus.HELD if in_custody else PersonStatus.PRESENT
        self.site_code = site_code
        self.transfer_id = None
        self.last_occurred_at = occurred_at

    def mark_unaccounted_for(
        self, *, transfer_id: UUID, actor: str, occurred_at: datetime, now: datetime
    ) -> None:
        if self.transfer_id != transfer_id or self.status != PersonStatus.IN_TRANSIT:
            raise errors.PersonNotOnManifest(
                f"person {self.id} is not travelling on transfer {transfer_id}",
                person=str(self.id),
            )
        # Reconciliation happens after the fact: it may not move the person's clock back.
        # A naive time cannot be compared with the last event's: refuse it before the clamp.
        check_occurred_at(occurred_at, now, None)
        occurred_at = max(occurred_at, self.last_occurred_at)
        self.check_time(occurred_at, now)
        self._marked_unaccounted_for(transfer_id=transfer_id, actor=actor, occurred_at=occurred_at)

    @event(MarkedUnaccountedFor)
    def _marked_unaccounted_for(self, transfer_id: UUID, actor: str, occurred_at: datetime) -> None:
        self.status = PersonStatus.UNACCOUNTED
        self.last_occurred_at = occurred_at

    # --- leaving the caseload ------------------------------------------------------

    def depart(self, *, reason: str, actor: str, occurred_at: datetime, now: datetime) -> None:
        reason = parse_enum(DepartureReason, reason, errors.InvalidInput).value
        self.check_on_site()
        self.check_not_on_manifest()
        self.check_time(occurred_at, now)
        assert self.site_code is not None
        self._departed(
            site_code=self.site_code, reason=reason, actor=actor, occurred_at=occurred_at
        )

    @event(Departed)
    def _departed(self, site_code: str, reason: str, actor: str, occurred_at: datetime) -> None:
        self.status = PersonStatus.DEPARTED
        self.departure_reason = reason
        self.last_occurred_at = occurred_at

    # --- corrections and merges ----------------------------------------------------

    def correct(
        self,
        *,
        field: str,
        value: Any,
        reason: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
        family_tracing: bool = False,
    ) -> Any:
        """Fix a mistaken detail; returns the previous value (the original stays in history).

        ``family_tracing`` records that a household id was set on purpose to join a family
        traced across sites; it means nothing for any other correction, so it is refused
        there rather than recorded as a claim nobody made.
        """
        if self.status == PersonStatus.MERGED:
            raise errors.PersonMerged(
                f"person {self.id} was merged into another record", person=str(self.id)
            )
        new_value = parse_correction(field, value, today=now.date())
        if family_tracing and (field != "household_id" or new_value is None):
            raise errors.InvalidInput(
                "family tracing applies only to a correction that sets a household id"
            )
        reason = check_text("reason", reason, max_length=500)
        self.check_time(occurred_at, now)
        other_age_field = {"date_of_birth": "estimated_age", "estimated_age": "date_of_birth"}
        if (
            new_value is None
            and field in other_age_field
            and getattr(self, other_age_field[field]) is None
        ):
            raise errors.InvalidAge("a date of birth or an estimated age is required")
        previous = getattr(self, field)
        self._detail_corrected(
            field=field,
            new_value=new_value,
            reason=reason,
            actor=actor,
            occurred_at=occurred_at,
            family_tracing=family_tracing,
        )
        return previous

    @event(DetailCorrected)
    def _detail_corrected(
        self,
        field: str,
        new_value: Any,
        reason: str,
        actor: str,
        occurred_at: datetime,
        family_tracing: bool,
    ) -> None:
        setattr(self, field, decode_correction(field, new_value))
        self.last_occurred_at = occurred_at

    def merge_into(
        self, survivor: Person, *, reason: str, actor: str, occurred_at: datetime, now: datetime
    ) -> None:
        if survivor.id == self.id:
            raise errors.InvalidInput("a person cannot be merged into themselves")
        self.check_on_site()
        survivor.check_active()
        self.check_not_on_manifest()
        reason = check_text("reason", reason, max_length=500)
        self.check_time(occurred_at, now)
        survivor.check_time(occurred_at, now)
        self._merged_into(
            survivor_id=survivor.id, reason=reason, actor=actor, occurred_at=occurred_at
        )
        survivor._duplicate_merged(
            duplicate_id=self.id,
            duplicate_registration_number=self.registration_number,
            reason=reason,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event(MergedInto)
    def _merged_into(
        self, survivor_id: UUID, reason: str, actor: str, occurred_at: datetime
    ) -> None:
        self.status = PersonStatus.MERGED
        self.merged_into = survivor_id
        self.site_code = None
        self.last_occurred_at = occurred_at

    @event(DuplicateMerged)
    def _duplicate_merged(
        self,
        duplicate_id: UUID,
        duplicate_registration_number: str,
        reason: str,
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.last_occurred_at = occurred_at


def _check_order(authority: str, order_reference: str) -> tuple[str, str]:
    """Who decided a hold or release and under which order: short, storable text."""
    return (
        check_text("authority", authority, max_length=200, required=False),
        check_text("order reference", order_reference, max_length=100, required=False),
    )


def _check_review_date(review_date: date | None, held_at: datetime) -> None:
    if review_date is not None and review_date < held_at.date():
        raise errors.InvalidInput("a hold's review date cannot be before the hold")
