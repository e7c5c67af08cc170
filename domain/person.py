"""A person: one registered individual and everything that happens to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import errors
from domain.arrival import Arrival
from domain.corrections import decode_correction, parse_correction
from domain.values import (
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

    class ScreeningStepRecorded(Aggregate.Event):
        step: str
        outcome: str
        site_code: str
        reason: str
        actor: str
        occurred_at: datetime

    class Held(Aggregate.Event):
        site_code: str
        reason: str
        actor: str
        occurred_at: datetime

    class Released(Aggregate.Event):
        site_code: str
        reason: str
        actor: str
        occurred_at: datetime

    class PlacedOnManifest(Aggregate.Event):
        transfer_id: UUID
        actor: str
        occurred_at: datetime

    class RemovedFromManifest(Aggregate.Event):
        transfer_id: UUID
        reason: str
        actor: str
        occurred_at: datetime

    class TransferDispatched(Aggregate.Event):
        transfer_id: UUID
        origin: str
        destination: str
        actor: str
        occurred_at: datetime

    class TransferReceived(Aggregate.Event):
        transfer_id: UUID
        site_code: str
        actor: str
        occurred_at: datetime

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
        class_version = 2
        field: str
        new_value: Any
        reason: str
        actor: str
        occurred_at: datetime
        family_tracing: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["family_tracing"] = False

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
    ) -> None:
        self.registration_number = registration_number
        self.given_name = given_name
        self.family_name = family_name
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
        if self.status == PersonStatus.HELD:
            raise errors.PersonHeld(
                f"person {self.id} is held and cannot be transferred", person=str(self.id)
            )
        if self.site_code != origin:
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
    ) -> None:
        step = parse_enum(ScreeningStep, step, errors.InvalidScreeningStep).value
        outcome = parse_enum(ScreeningOutcome, outcome, errors.InvalidScreeningOutcome).value
        reason = check_text("reason", reason, max_length=500, required=False)
        self.check_on_site()
        self.check_time(occurred_at, now)
        assert self.site_code is not None
        self._screening_step_recorded(
            step=step,
            outcome=outcome,
            site_code=self.site_code,
            reason=reason,
            actor=actor,
            occurred_at=occurred_at,
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
    ) -> None:
        self.screening[step] = outcome
        if outcome == ScreeningOutcome.HELD:
            self.status = PersonStatus.HELD
        self.last_occurred_at = occurred_at

    def hold(self, *, reason: str, actor: str, occurred_at: datetime, now: datetime) -> None:
        self.check_on_site()
        if self.status == PersonStatus.HELD:
            raise errors.PersonHeld(f"person {self.id} is already held", person=str(self.id))
        self.check_time(occurred_at, now)
        assert self.site_code is not None
        self._held(
            site_code=self.site_code,
            reason=check_text("reason", reason, max_length=500),
            actor=actor,
            occurred_at=occurred_at,
        )

    @event(Held)
    def _held(self, site_code: str, reason: str, actor: str, occurred_at: datetime) -> None:
        self.status = PersonStatus.HELD
        self.last_occurred_at = occurred_at

    def release(self, *, reason: str, actor: str, occurred_at: datetime, now: datetime) -> None:
        self.check_on_site()
        if self.status != PersonStatus.HELD:
            raise errors.PersonNotHeld(f"person {self.id} is not held", person=str(self.id))
        self.check_time(occurred_at, now)
        assert self.site_code is not None
        self._released(
            site_code=self.site_code,
            reason=check_text("reason", reason, max_length=500),
            actor=actor,
            occurred_at=occurred_at,
        )

    @event(Released)
    def _released(self, site_code: str, reason: str, actor: str, occurred_at: datetime) -> None:
        self.status = PersonStatus.PRESENT
        self.last_occurred_at = occurred_at

    # --- transfers -------------------------------------------------------------------

    def place_on_manifest(
        self,
        *,
        transfer_id: UUID,
        origin: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> None:
        self.check_movable_from(origin)
        self.check_not_on_manifest()
        self.check_time(occurred_at, now)
        self._placed_on_manifest(transfer_id=transfer_id, actor=actor, occurred_at=occurred_at)

    @event(PlacedOnManifest)
    def _placed_on_manifest(self, transfer_id: UUID, actor: str, occurred_at: datetime) -> None:
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
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> None:
        if self.transfer_id != transfer_id:
            raise errors.PersonNotOnManifest(
                f"person {self.id} is not on the manifest of transfer {transfer_id}",
                person=str(self.id),
            )
        self.check_movable_from(origin)
        self.check_time(occurred_at, now)
        self._transfer_dispatched(
            transfer_id=transfer_id,
            origin=origin,
            destination=destination,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event(TransferDispatched)
    def _transfer_dispatched(
        self,
        transfer_id: UUID,
        origin: str,
        destination: str,
        actor: str,
        occurred_at: datetime,
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
            transfer_id=transfer_id, site_code=site_code, actor=actor, occurred_at=occurred_at
        )

    @event(TransferReceived)
    def _transfer_received(
        self, transfer_id: UUID, site_code: str, actor: str, occurred_at: datetime
    ) -> None:
        self.status = PersonStatus.PRESENT
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
