"""A person's movements: on a transfer's manifest, dispatched, received or unaccounted for,
and departed from the caseload.

The transfer itself (``transfer.Transfer``) keeps the manifest; each person on it checks
here that they can go: at the origin, on no other manifest, and, when held, in custody to
a site that can keep it (``custody``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from campledger.domain.model import errors
from campledger.domain.model.custody import check_custody_kept, check_custody_unchanged
from campledger.domain.model.values import (
    DepartureReason,
    PersonStatus,
    check_occurred_at,
    parse_enum,
)

if TYPE_CHECKING:
    from campledger.domain.model.person import Person

# Custody ends by release. A held person who leaves the caseload without one has died or
# escaped, and that must be recordable; returning home or resettling from custody is not
# a departure but a release nobody ordered, so it is refused.
HELD_DEPARTURES = frozenset({DepartureReason.DECEASED.value, DepartureReason.ABSCONDED.value})


def place_on_manifest(
    person: Person,
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
    person.check_movable_from(origin)
    check_custody_kept(person, destination, destination_kind)
    person.check_not_on_manifest()
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.PlacedOnManifest,
        transfer_id=transfer_id,
        actor=actor,
        occurred_at=occurred_at,
        in_custody=person.held,
    )


def remove_from_manifest(
    person: Person,
    *,
    transfer_id: UUID,
    reason: str,
    actor: str,
    occurred_at: datetime,
    now: datetime,
) -> None:
    person.check_on_manifest(transfer_id)
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.RemovedFromManifest,
        transfer_id=transfer_id,
        reason=reason,
        actor=actor,
        occurred_at=occurred_at,
    )


def dispatch(
    person: Person,
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
    person.check_on_manifest(transfer_id)
    person.check_movable_from(origin)
    check_custody_kept(person, destination, destination_kind)
    check_custody_unchanged(person, in_custody, transfer_id)
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.TransferDispatched,
        transfer_id=transfer_id,
        origin=origin,
        destination=destination,
        actor=actor,
        occurred_at=occurred_at,
        in_custody=in_custody,
    )


def receive(
    person: Person,
    *,
    transfer_id: UUID,
    site_code: str,
    actor: str,
    occurred_at: datetime,
    now: datetime,
) -> None:
    person.check_active()
    # A late check-in of someone a reconciliation marked unaccounted for is welcome.
    person.check_travelling(transfer_id, PersonStatus.IN_TRANSIT, PersonStatus.UNACCOUNTED)
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.TransferReceived,
        transfer_id=transfer_id,
        site_code=site_code,
        actor=actor,
        occurred_at=occurred_at,
        in_custody=person.held,
    )


def mark_unaccounted_for(
    person: Person, *, transfer_id: UUID, actor: str, occurred_at: datetime, now: datetime
) -> None:
    person.check_travelling(transfer_id, PersonStatus.IN_TRANSIT)
    # Reconciliation happens after the fact: it may not move the person's clock back.
    # A naive time cannot be compared with the last event's: refuse it before the clamp.
    check_occurred_at(occurred_at, now, None)
    occurred_at = max(occurred_at, person.last_occurred_at)
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.MarkedUnaccountedFor, transfer_id=transfer_id, actor=actor, occurred_at=occurred_at
    )


def depart(
    person: Person, *, reason: str, actor: str, occurred_at: datetime, now: datetime
) -> None:
    """The person leaves the caseload (resettled, returned, deceased, ...) from their site."""
    reason = parse_enum(DepartureReason, reason, errors.InvalidInput).value
    site_code = person.check_on_site()
    if person.status == PersonStatus.HELD and reason not in HELD_DEPARTURES:
        raise errors.HeldPersonDeparture(
            f"person {person.id} is held: release them first; while held, a person leaves "
            "only as deceased or absconded",
            person=str(person.id),
        )
    person.check_not_on_manifest()
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.Departed, site_code=site_code, reason=reason, actor=actor, occurred_at=occurred_at
    )
