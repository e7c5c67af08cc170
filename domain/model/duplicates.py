"""Two registrations of one person, merged; or a pair judged to be two different people.

The likely-duplicates read model proposes pairs of records that may be one person.
A reviewer either merges them (``merge``: the duplicate's record closes into the
survivor's) or dismisses the pair. A dismissal is a fact about the *pair*, not about
either person, so it lives on a small aggregate of its own rather than on a ``Person``:

- it does not bump either person's version, so a registrar holding a person's ETag is
  not refused because someone reviewed a duplicate list;
- the pair's id is derived from the two person ids (in either order), so a second
  dismissal of the same pair clashes in the event log itself, like a second site with
  the same code.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from campledger.domain.model import errors
from campledger.domain.model.values import REASON_MAX, check_occurred_at, check_text

if TYPE_CHECKING:
    from campledger.domain.model.person import Person


def merge(
    duplicate: Person,
    survivor: Person,
    *,
    reason: str,
    actor: str,
    occurred_at: datetime,
    now: datetime,
) -> None:
    """Close the duplicate's record into the survivor's; both records say so."""
    if survivor.id == duplicate.id:
        raise errors.InvalidInput("a person cannot be merged into themselves")
    duplicate.check_on_site()
    survivor.check_active()
    duplicate.check_not_on_manifest()
    reason = check_text("reason", reason, max_length=REASON_MAX)
    duplicate.check_time(occurred_at, now)
    survivor.check_time(occurred_at, now)
    duplicate.trigger_event(
        duplicate.MergedInto,
        survivor_id=survivor.id,
        reason=reason,
        actor=actor,
        occurred_at=occurred_at,
    )
    survivor.trigger_event(
        survivor.DuplicateMerged,
        duplicate_id=duplicate.id,
        duplicate_registration_number=duplicate.registration_number,
        reason=reason,
        actor=actor,
        occurred_at=occurred_at,
    )


def ordered(person_id: UUID, other_id: UUID) -> tuple[UUID, UUID]:
    """The pair with the lower id first: (a, b) and (b, a) are the same pair."""
    return (person_id, other_id) if person_id < other_id else (other_id, person_id)


def pair_id(person_id: UUID, other_id: UUID) -> UUID:
    low, high = ordered(person_id, other_id)
    return uuid5(NAMESPACE_URL, f"campledger:duplicate-pair:{low}:{high}")


class DuplicatePair(Aggregate):
    class Dismissed(Aggregate.Created):
        person_id: UUID  # the lower of the two ids
        other_id: UUID
        reason: str
        actor: str
        occurred_at: datetime

    @classmethod
    def dismiss(
        cls,
        *,
        person_id: UUID,
        other_id: UUID,
        reason: str,
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> DuplicatePair:
        """Record that two records are different people (checked by the Registry to exist)."""
        if person_id == other_id:
            raise errors.InvalidInput("a person cannot be a duplicate of themselves")
        reason = check_text("reason", reason, max_length=REASON_MAX)
        check_occurred_at(occurred_at, now, None)
        low, high = ordered(person_id, other_id)
        return cls._create(
            cls.Dismissed,
            id=pair_id(low, high),
            person_id=low,
            other_id=high,
            reason=reason,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event(Dismissed)
    def __init__(
        self, person_id: UUID, other_id: UUID, reason: str, actor: str, occurred_at: datetime
    ) -> None:
        self.person_id = person_id
        self.other_id = other_id
        self.reason = reason
        self.dismissed_at = occurred_at
