"""Screening and holds: what a screening step records, and a hold from order to release.

A hold is decided by an authority under an order reference, to be reviewed by a date. It
is a fact apart from where the person is: a held person stays held in transit and on
arrival, so they travel in custody, and only to a site where custody can be kept.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from campledger.domain.model import errors
from campledger.domain.model.values import (
    ORDER_REFERENCE_MAX,
    REASON_MAX,
    TEXT_MAX,
    ScreeningOutcome,
    ScreeningStep,
    SiteKind,
    check_text,
    parse_enum,
)

if TYPE_CHECKING:
    from campledger.domain.model.person import Person

# Where a held person may be moved, in custody: a holding facility, or a hospital (under
# escort) when their health cannot wait for the hold to end.
CUSTODY_SITE_KINDS = frozenset({SiteKind.HOLDING.value, SiteKind.HOSPITAL.value})


def record_screening_step(
    person: Person,
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
    reason = check_text("reason", reason, max_length=REASON_MAX, required=False)
    authority, order_reference = check_order(authority, order_reference)
    if outcome != ScreeningOutcome.HELD and (authority or order_reference or review_date):
        raise errors.InvalidInput(
            "an authority, order reference or review date goes with a 'held' outcome only"
        )
    site_code = person.check_on_site()
    person.check_time(occurred_at, now)
    check_review_date(review_date, occurred_at)
    person.trigger_event(
        person.ScreeningStepRecorded,
        step=step,
        outcome=outcome,
        site_code=site_code,
        reason=reason,
        actor=actor,
        occurred_at=occurred_at,
        authority=authority,
        order_reference=order_reference,
        review_date=review_date,
    )


def hold(
    person: Person,
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
    site_code = person.check_on_site()
    if person.held:
        raise errors.PersonHeld(f"person {person.id} is already held", person=str(person.id))
    authority, order_reference = check_order(authority, order_reference)
    person.check_time(occurred_at, now)
    check_review_date(review_date, occurred_at)
    person.trigger_event(
        person.Held,
        site_code=site_code,
        reason=check_text("reason", reason, max_length=REASON_MAX),
        actor=actor,
        occurred_at=occurred_at,
        authority=authority,
        order_reference=order_reference,
        review_date=review_date,
    )


def release(
    person: Person,
    *,
    reason: str,
    actor: str,
    occurred_at: datetime,
    now: datetime,
    authority: str = "",
    order_reference: str = "",
) -> None:
    """End a hold (at a site: a person in custody is released where they arrived)."""
    site_code = person.check_on_site()
    if not person.held:
        raise errors.PersonNotHeld(f"person {person.id} is not held", person=str(person.id))
    authority, order_reference = check_order(authority, order_reference)
    person.check_time(occurred_at, now)
    person.trigger_event(
        person.Released,
        site_code=site_code,
        reason=check_text("reason", reason, max_length=REASON_MAX),
        actor=actor,
        occurred_at=occurred_at,
        authority=authority,
        order_reference=order_reference,
    )


def check_order(authority: str, order_reference: str) -> tuple[str, str]:
    """Who decided a hold or release and under which order: short, storable text."""
    return (
        check_text("authority", authority, max_length=TEXT_MAX, required=False),
        check_text(
            "order reference", order_reference, max_length=ORDER_REFERENCE_MAX, required=False
        ),
    )


def check_review_date(review_date: date | None, held_at: datetime) -> None:
    if review_date is not None and review_date < held_at.date():
        raise errors.InvalidInput("a hold's review date cannot be before the hold")


def check_custody_kept(person: Person, destination: str, destination_kind: str) -> None:
    """A held person moves only in custody, and only where custody can be kept."""
    if person.held and destination_kind not in CUSTODY_SITE_KINDS:
        raise errors.PersonHeld(
            f"person {person.id} is held: a held person may be moved only in custody, to a "
            f"holding facility or a hospital, and {destination} is a {destination_kind} "
            "site; release them first to move them there",
            person=str(person.id),
            site=destination,
        )


def check_custody_unchanged(person: Person, in_custody: bool, transfer_id: UUID) -> None:
    """Held or released since the manifest was planned: the manifest no longer says who
    travels in custody, and an escort goes by the manifest."""
    if person.held != in_custody:
        raise errors.CustodyChanged(
            f"person {person.id} was {'held' if person.held else 'released'} after transfer "
            f"{transfer_id} was planned; cancel the transfer and plan it again",
            person=str(person.id),
            transfer=str(transfer_id),
        )
