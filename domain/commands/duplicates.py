"""A reviewer's judgement that two records proposed as duplicates are two people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from campledger.domain.commands.base import Command, Decision, Records, handles
from campledger.domain.model import errors
from campledger.domain.model.duplicates import DuplicatePair, pair_id


@dataclass(frozen=True, kw_only=True)
class DismissDuplicate(Command):
    """Two records proposed as duplicates are two people: the pair is not proposed again.
    Either order of the two ids names the same pair."""

    command_name = "dismiss_duplicate"
    person_id: UUID
    other_id: UUID
    reason: str
    occurred_at: datetime | None = None


def _already_dismissed(records: Records, c: DismissDuplicate) -> None:
    raise errors.DuplicateAlreadyDismissed(
        f"the pair {c.person_id} / {c.other_id} was already dismissed",
        person=str(c.person_id),
        other=str(c.other_id),
    )


@handles(DismissDuplicate, on_conflict=_already_dismissed)
def dismiss_duplicate(records: Records, c: DismissDuplicate, actor: str, now: datetime) -> Decision:
    if c.person_id != c.other_id:
        for record in (records.get_person(c.person_id), records.get_person(c.other_id)):
            if record.merged_into is not None:
                raise errors.PersonMerged(
                    f"person {record.id} was merged into another record", person=str(record.id)
                )
        if records.exists(pair_id(c.person_id, c.other_id)):
            _already_dismissed(records, c)
    pair = DuplicatePair.dismiss(
        person_id=c.person_id, other_id=c.other_id, reason=c.reason, actor=actor,
        occurred_at=c.occurred_at or now, now=now,
    )  # fmt: skip
    return Decision(
        [pair],
        {"pair_id": str(pair.id), "person_id": str(pair.person_id), "other_id": str(pair.other_id)},
    )
