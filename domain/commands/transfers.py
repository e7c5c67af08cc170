"""Moving people between sites: plan, dispatch, receive, reconcile, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from campledger.domain.commands.base import Command, Decision, Records, handles
from campledger.domain.model import errors
from campledger.domain.model.transfer import MAX_MANIFEST, Transfer
from campledger.domain.service.unit_of_work import Lookups


@dataclass(frozen=True, kw_only=True)
class PlanTransfer(Command):
    """Plan a movement between two sites; every person on the manifest is reserved for it."""

    command_name = "plan_transfer"
    origin: str
    destination: str
    manifest: Sequence[UUID]
    vehicle: str = ""
    order_reference: str = ""
    occurred_at: datetime | None = None
    transfer_id: UUID | None = None

    def lookups(self) -> Lookups:
        minted = [self.transfer_id] if self.transfer_id else []
        return Lookups(records=[*minted, *self.manifest])

    def check(self) -> None:
        if len(self.manifest) > MAX_MANIFEST:
            raise errors.BatchTooLarge(f"a manifest lists at most {MAX_MANIFEST} persons")


@dataclass(frozen=True, kw_only=True)
class TransferCommand(Command):
    """A command on one planned transfer."""

    transfer_id: UUID

    def lookups(self) -> Lookups:
        return Lookups(records=[self.transfer_id])


@dataclass(frozen=True, kw_only=True)
class DispatchTransfer(TransferCommand):
    """The vehicle has left the origin with everyone on the manifest."""

    command_name = "dispatch_transfer"
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ReceiveTransfer(TransferCommand):
    """Check persons in at the destination. When the last one is in, the transfer
    reconciles itself with nobody unaccounted for."""

    command_name = "receive_transfer"
    site_code: str
    persons: Sequence[UUID]
    occurred_at: datetime | None = None

    def lookups(self) -> Lookups:
        return Lookups(records=[self.transfer_id, *self.persons])


@dataclass(frozen=True, kw_only=True)
class ReconcileTransfer(TransferCommand):
    """Close a transfer: whoever was dispatched but not received is unaccounted for."""

    command_name = "reconcile_transfer"
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CancelTransfer(TransferCommand):
    """Cancel a planned transfer; everyone on its manifest is free to move again."""

    command_name = "cancel_transfer"
    reason: str
    occurred_at: datetime | None = None


@handles(PlanTransfer)
def plan_transfer(records: Records, c: PlanTransfer, actor: str, now: datetime) -> Decision:
    when = c.occurred_at or now
    if c.transfer_id is not None and records.exists(c.transfer_id):
        # Without this check the store refuses the save as if another writer had got in
        # first, and a device's queue would retry it for ever.
        raise errors.TransferIdTaken(
            f"the id {c.transfer_id} is already taken by another record; "
            "plan the transfer under a new id",
            transfer=str(c.transfer_id),
        )
    records.get_open_site(c.origin)
    arriving_at = records.get_open_site(c.destination)
    manifest = tuple(c.manifest)
    Transfer.check_manifest(c.origin, c.destination, manifest)
    persons = [records.get_person(pid) for pid in manifest]
    # Whoever is held now travels in custody; each person checks that custody can be kept
    # at the destination (a holding facility or a hospital).
    transfer = Transfer.plan(
        transfer_id=c.transfer_id or uuid4(), origin=c.origin, destination=c.destination,
        manifest=manifest, vehicle=c.vehicle, order_reference=c.order_reference, actor=actor,
        occurred_at=when, now=now, custody=tuple(p.id for p in persons if p.held),
    )  # fmt: skip
    for person in persons:
        person.place_on_manifest(
            transfer_id=transfer.id, origin=c.origin, destination=c.destination,
            destination_kind=arriving_at.kind, actor=actor, occurred_at=when, now=now,
        )  # fmt: skip
    return Decision([transfer, *persons], {"transfer_id": str(transfer.id)})


@handles(DispatchTransfer)
def dispatch_transfer(records: Records, c: DispatchTransfer, actor: str, now: datetime) -> Decision:
    when = c.occurred_at or now
    transfer = records.get_transfer(c.transfer_id)
    transfer.dispatch(actor=actor, occurred_at=when, now=now)
    destination_kind = records.get_site(transfer.destination).kind
    persons = [records.get_person(pid) for pid in transfer.manifest]
    for person in persons:
        person.dispatch(
            transfer_id=transfer.id, origin=transfer.origin, destination=transfer.destination,
            destination_kind=destination_kind, in_custody=person.id in transfer.custody,
            actor=actor, occurred_at=when, now=now,
        )  # fmt: skip
    return Decision([transfer, *persons], {"transfer_id": str(transfer.id)})


@handles(ReceiveTransfer)
def receive_transfer(records: Records, c: ReceiveTransfer, actor: str, now: datetime) -> Decision:
    when = c.occurred_at or now
    transfer = records.get_transfer(c.transfer_id)
    records.get_open_site(c.site_code)
    transfer.receive(
        site_code=c.site_code, persons=tuple(c.persons), actor=actor, occurred_at=when, now=now
    )
    travellers = [records.get_person(pid) for pid in c.persons]
    for person in travellers:
        person.receive(
            transfer_id=transfer.id, site_code=c.site_code, actor=actor, occurred_at=when, now=now
        )
    if transfer.is_complete and transfer.state.value == "dispatched":
        transfer.reconcile(actor=actor, occurred_at=when, now=now)
    return Decision(
        [transfer, *travellers],
        {
            "transfer_id": str(transfer.id),
            "state": transfer.state.value,
            "missing": [str(p) for p in transfer.missing],
        },
    )


@handles(ReconcileTransfer)
def reconcile_transfer(
    records: Records, c: ReconcileTransfer, actor: str, now: datetime
) -> Decision:
    when = c.occurred_at or now
    transfer = records.get_transfer(c.transfer_id)
    missing = transfer.reconcile(actor=actor, occurred_at=when, now=now)
    persons = [records.get_person(pid) for pid in missing]
    for person in persons:
        person.mark_unaccounted_for(transfer_id=transfer.id, actor=actor, occurred_at=when, now=now)
    return Decision(
        [transfer, *persons],
        {"transfer_id": str(transfer.id), "unaccounted_for": [str(p) for p in missing]},
    )


@handles(CancelTransfer)
def cancel_transfer(records: Records, c: CancelTransfer, actor: str, now: datetime) -> Decision:
    when = c.occurred_at or now
    transfer = records.get_transfer(c.transfer_id)
    transfer.cancel(reason=c.reason, actor=actor, occurred_at=when, now=now)
    persons = [records.get_person(pid) for pid in transfer.manifest]
    for person in persons:
        person.remove_from_manifest(
            transfer_id=transfer.id, reason="transfer cancelled", actor=actor,
            occurred_at=max(when, person.last_occurred_at), now=now,
        )  # fmt: skip
    return Decision([transfer, *persons], {"transfer_id": str(transfer.id)})
