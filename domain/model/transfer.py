"""A transfer: a group moving between two sites under one manifest."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from campledger.domain.model import errors, upcasting
from campledger.domain.model.events import RecordedEvent
from campledger.domain.model.values import (
    ORDER_REFERENCE_MAX,
    REASON_MAX,
    TransferState,
    check_occurred_at,
    check_text,
)

MAX_MANIFEST = 1_000
VEHICLE_MAX = 100


class Transfer(Aggregate):
    class Event(RecordedEvent):
        pass

    class Planned(Event, Aggregate.Created):
        # v2 added ``custody``: the persons on the manifest who travel held. Nobody held
        # could be placed on a manifest before v2, so older plans read with nobody.
        class_version = 2
        origin: str
        destination: str
        manifest: tuple[UUID, ...]
        vehicle: str
        order_reference: str
        custody: tuple[UUID, ...]
        upcast_v1_v2 = staticmethod(upcasting.nobody_in_custody)

    class Dispatched(Event):
        def apply(self, transfer: Transfer) -> None:
            transfer.state = TransferState.DISPATCHED

    class Received(Event):
        site_code: str
        persons: tuple[UUID, ...]

        def apply(self, transfer: Transfer) -> None:
            transfer.received.update(self.persons)
            transfer.unaccounted_for.difference_update(self.persons)

    class Reconciled(Event):
        unaccounted_for: tuple[UUID, ...]

        def apply(self, transfer: Transfer) -> None:
            transfer.state = TransferState.RECONCILED
            transfer.unaccounted_for = set(self.unaccounted_for)

    class Cancelled(Event):
        reason: str

        def apply(self, transfer: Transfer) -> None:
            transfer.state = TransferState.CANCELLED

    @staticmethod
    def check_manifest(origin: str, destination: str, manifest: tuple[UUID, ...]) -> None:
        """The rules of a manifest on its own, before anyone on it is looked at."""
        if origin == destination:
            raise errors.InvalidInput("origin and destination must be different sites")
        if not manifest:
            raise errors.InvalidInput("a manifest lists at least one person")
        if len(manifest) > MAX_MANIFEST:
            raise errors.BatchTooLarge(f"a manifest lists at most {MAX_MANIFEST} persons")
        if len(set(manifest)) != len(manifest):
            raise errors.InvalidInput("a person is listed twice on the manifest")

    @classmethod
    def plan(
        cls,
        *,
        transfer_id: UUID,
        origin: str,
        destination: str,
        manifest: tuple[UUID, ...],
        vehicle: str,
        order_reference: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
        custody: tuple[UUID, ...] = (),
    ) -> Transfer:
        """A movement; ``custody`` lists who on the manifest travels held (the persons
        themselves check that custody can be kept where they go)."""
        cls.check_manifest(origin, destination, manifest)
        if not set(custody) <= set(manifest):
            raise errors.InvalidInput("only persons on the manifest can travel in custody")
        check_occurred_at(occurred_at, now, None)
        return cls._create(
            cls.Planned,
            id=transfer_id,
            origin=origin,
            destination=destination,
            manifest=tuple(manifest),
            vehicle=check_text("vehicle", vehicle, max_length=VEHICLE_MAX, required=False),
            order_reference=check_text(
                "order reference", order_reference, max_length=ORDER_REFERENCE_MAX, required=False
            ),
            actor=actor,
            occurred_at=occurred_at,
            custody=tuple(p for p in manifest if p in set(custody)),
        )

    @event(Planned)
    def __init__(
        self,
        origin: str,
        destination: str,
        manifest: tuple[UUID, ...],
        vehicle: str,
        order_reference: str,
        actor: str,
        occurred_at: datetime,
        custody: tuple[UUID, ...],
    ) -> None:
        self.origin = origin
        self.destination = destination
        self.manifest = tuple(manifest)
        self.custody = frozenset(custody)
        self.vehicle = vehicle
        self.order_reference = order_reference
        self.state = TransferState.PLANNED
        self.received: set[UUID] = set()
        self.unaccounted_for: set[UUID] = set()
        self.last_occurred_at = occurred_at

    def _check_state(self, *allowed: TransferState) -> None:
        if self.state not in allowed:
            raise errors.TransferStateInvalid(
                f"transfer {self.id} is {self.state.value}", transfer=str(self.id)
            )

    def dispatch(self, *, actor: str, occurred_at: datetime, now: datetime) -> None:
        self._check_state(TransferState.PLANNED)
        check_occurred_at(occurred_at, now, self.last_occurred_at)
        self.trigger_event(self.Dispatched, actor=actor, occurred_at=occurred_at)

    def receive(
        self,
        *,
        site_code: str,
        persons: tuple[UUID, ...],
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> None:
        """Check persons in at the destination. After reconciliation, only persons
        still unaccounted for can arrive (late) on this transfer."""
        self._check_state(TransferState.DISPATCHED, TransferState.RECONCILED)
        if site_code != self.destination:
            raise errors.WrongReceivingSite(
                f"transfer {self.id} goes to {self.destination}, not {site_code}",
                transfer=str(self.id),
            )
        if not persons:
            raise errors.InvalidInput("receive at least one person")
        if len(set(persons)) != len(persons):
            raise errors.InvalidInput("a person is listed twice")
        on_manifest = set(self.manifest)
        for person_id in persons:
            if person_id not in on_manifest:
                raise errors.PersonNotOnManifest(
                    f"person {person_id} is not on the manifest of transfer {self.id}",
                    person=str(person_id),
                )
            if person_id in self.received:
                raise errors.PersonAlreadyReceived(
                    f"person {person_id} was already received", person=str(person_id)
                )
        check_occurred_at(occurred_at, now, self.last_occurred_at)
        self.trigger_event(
            self.Received,
            site_code=site_code,
            persons=tuple(persons),
            actor=actor,
            occurred_at=occurred_at,
        )

    @property
    def missing(self) -> tuple[UUID, ...]:
        """Persons on the manifest not (yet) received, in manifest order."""
        return tuple(p for p in self.manifest if p not in self.received)

    @property
    def is_complete(self) -> bool:
        return len(self.received) == len(self.manifest)

    def reconcile(self, *, actor: str, occurred_at: datetime, now: datetime) -> tuple[UUID, ...]:
        """Close the transfer; whoever was dispatched but not received is unaccounted for."""
        self._check_state(TransferState.DISPATCHED)
        # A naive time cannot be compared with the last event's: refuse it before the clamp.
        check_occurred_at(occurred_at, now, None)
        occurred_at = max(occurred_at, self.last_occurred_at)
        check_occurred_at(occurred_at, now, self.last_occurred_at)
        missing = self.missing
        self.trigger_event(
            self.Reconciled, unaccounted_for=missing, actor=actor, occurred_at=occurred_at
        )
        return missing

    def cancel(self, *, reason: str, actor: str, occurred_at: datetime, now: datetime) -> None:
        self._check_state(TransferState.PLANNED)
        check_occurred_at(occurred_at, now, self.last_occurred_at)
        self.trigger_event(
            self.Cancelled,
            reason=check_text("reason", reason, max_length=REASON_MAX),
            actor=actor,
            occurred_at=occurred_at,
        )
