"""The retention policy (docs/data-protection.md#retention): the personal data of people
who departed more than ``CAMPLEDGER_RETENTION_DEPARTED_DAYS`` days ago is erased, each
erasure a ``PersonalDataErased`` event with the basis ``retention``.

The policy covers a departed person's record and every duplicate record that was merged
into it (the same person, registered twice): erasing one and keeping the other would keep
the very names the policy is there to let go of.

Who is due is found in the read models (the stays say when each departure occurred, the
roster who is erased already and which record was merged into which), then checked again
on each record in the log before anything is erased or listed: a read model may lag behind
the log, and only the log says for sure that a record is still departed and not erased.
What is listed holds nothing personal: ids, registration numbers, times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from campledger.api.settings import Settings
from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import ErasureBasis, PersonStatus
from campledger.domain.service.registry import Registry
from campledger.projections.roster import Roster
from campledger.projections.rows import rows_of
from campledger.projections.status import read_status
from campledger.projections.stays import Stays

# Merges cannot form a cycle (a survivor is active, a merged record never is), so a chain
# is as long as the merges made one after another; the bound only keeps a damaged read
# model from looping.
MAX_MERGE_CHAIN = 100

# Departed records whose open stay (the last, open for ever) began before the cutoff, and
# the merged records whose chain of merges ends at one of them: erased already or not,
# the departed person's duplicates are theirs to let go of.
_DUE = """
WITH RECURSIVE departures AS (
    SELECT person_id, lower(period) AS departed_at FROM {stays}
    WHERE status = 'departed' AND upper_inf(period) AND lower(period) < %(cutoff)s
), chain AS (
    SELECT person_id, merged_into AS survivor, 1 AS hops FROM {roster}
    WHERE status = 'merged' AND NOT erased AND merged_into IS NOT NULL
    UNION ALL
    SELECT c.person_id, r.merged_into, c.hops + 1 FROM chain c
    JOIN {roster} r ON r.person_id = c.survivor AND r.status = 'merged'
    WHERE c.hops < %(max_hops)s
)
SELECT r.person_id, r.registration_number, d.departed_at, NULL::uuid AS merged_into
FROM departures d JOIN {roster} r USING (person_id)
WHERE r.status = 'departed' AND NOT r.erased
UNION ALL
SELECT r.person_id, r.registration_number, d.departed_at, r.merged_into
FROM chain c JOIN departures d ON d.person_id = c.survivor
JOIN {roster} r ON r.person_id = c.person_id
ORDER BY departed_at, registration_number, person_id
"""


@dataclass(frozen=True)
class RetentionPolicy:
    """The operation's policy: personal data kept until this many days after departure."""

    departed_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy | None:
        """The configured policy, or None when there is none (the default)."""
        days = settings.retention_departed_days
        return None if days is None else cls(days)

    @property
    def description(self) -> str:
        """The policy in words; each erasure records it as its reference (no person in it)."""
        return f"retention: departed more than {self.departed_days} days ago"

    def cutoff(self, now: datetime) -> datetime:
        """Departures before this instant are due."""
        return now - timedelta(days=self.departed_days)


@dataclass(frozen=True)
class Due:
    """A record the policy covers, as it may be shown: nothing personal in it."""

    person_id: UUID
    registration_number: str
    departed_at: datetime
    days_since_departure: int
    # A duplicate record: the record it was merged into (the chain ends at the departure).
    merged_into: UUID | None
    # The record's version when checked: the erasure is refused if it has changed since.
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": str(self.person_id),
            "registration_number": self.registration_number,
            "departed_at": self.departed_at.astimezone(UTC).isoformat(),
            "days_since_departure": self.days_since_departure,
            "merged_into": None if self.merged_into is None else str(self.merged_into),
        }


@dataclass(frozen=True)
class Erased:
    due: Due
    position: int

    def as_dict(self) -> dict[str, Any]:
        return {**self.due.as_dict(), "position": self.position}


@dataclass(frozen=True)
class Left:
    """A due record that was not erased: it changed between the check and the erasure."""

    due: Due
    reason: str  # the domain's refusal, which never holds personal data

    def as_dict(self) -> dict[str, Any]:
        return {**self.due.as_dict(), "reason": self.reason}


@dataclass
class Run:
    """What one application of the policy found, and did unless it was a dry run."""

    policy: RetentionPolicy
    now: datetime
    dry_run: bool
    due: list[Due]
    # Events the read models had not applied yet: departures among them wait for a later run.
    read_models_behind: int
    erased: list[Erased] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": {
                "departed_days": self.policy.departed_days,
                "description": self.policy.description,
            },
            "now": self.now.astimezone(UTC).isoformat(),
            "cutoff": self.policy.cutoff(self.now).astimezone(UTC).isoformat(),
            "dry_run": self.dry_run,
            "read_models_behind": self.read_models_behind,
            "due": [d.as_dict() for d in self.due],
            "erased": [e.as_dict() for e in self.erased],
            "left": [k.as_dict() for k in self.left],
        }


def find_due(
    conn: psycopg.Connection[Any], registry: Registry, policy: RetentionPolicy
) -> tuple[datetime, list[Due]]:
    """The records the policy covers now (the registry's clock), each confirmed on its
    record in the log; raises ``psycopg.errors.UndefinedTable`` before the read models
    are built."""
    now = registry.clock()
    cutoff = policy.cutoff(now)
    query = sql.SQL(_DUE).format(
        stays=sql.Identifier(Stays.live_schema(), "stays"),
        roster=sql.Identifier(Roster.live_schema(), "roster"),
    )
    rows = rows_of(conn, query, {"cutoff": cutoff, "max_hops": MAX_MERGE_CHAIN})
    found = [confirmed(registry, row["person_id"], now=now, cutoff=cutoff) for row in rows]
    return now, [due for due in found if due is not None]


def confirmed(
    registry: Registry, person_id: UUID, *, now: datetime, cutoff: datetime
) -> Due | None:
    """The record as due, if the log says it is: not erased, and departed before the cutoff
    (or merged, through a chain of merges, into a record that did)."""
    try:
        record = registry.get_person(person_id)
    except errors.PersonNotFound:
        return None
    if record.erased:
        return None
    departed: Person | None = record
    for _ in range(MAX_MERGE_CHAIN):
        if departed is None or departed.status != PersonStatus.MERGED:
            break
        survivor = departed.merged_into
        departed = None if survivor is None else registry.get_person(survivor)
    if departed is None or departed.status != PersonStatus.DEPARTED:
        return None
    departed_at = departed.departed_at
    if departed_at is None or departed_at >= cutoff:
        return None
    return Due(
        person_id=record.id,
        registration_number=record.registration_number,
        departed_at=departed_at,
        days_since_departure=(now - departed_at) // timedelta(days=1),
        merged_into=record.merged_into,
        version=record.version,
    )


def erase_due(
    registry: Registry, due: list[Due], policy: RetentionPolicy, *, actor: str
) -> tuple[list[Erased], list[Left]]:
    """Erase each record, one transaction each: a run stopped midway keeps what it erased,
    and the next run finds the rest. A record changed since it was checked is left."""
    erased: list[Erased] = []
    left: list[Left] = []
    for record in due:
        try:
            done = registry.erase_personal_data(
                person_id=record.person_id,
                expected_version=record.version,
                basis=ErasureBasis.RETENTION.value,
                order_reference=policy.description,
                actor=actor,
            )
        except errors.DomainError as refusal:
            left.append(Left(record, refusal.message))
            continue
        erased.append(Erased(record, done.position))
    return erased, left


def apply_policy(
    conn: psycopg.Connection[Any],
    registry: Registry,
    policy: RetentionPolicy,
    *,
    actor: str,
    dry_run: bool,
) -> Run:
    """Find what the policy covers and, unless ``dry_run``, erase it."""
    now, due = find_due(conn, registry, policy)
    run = Run(policy, now, dry_run, due, read_models_behind=_behind(conn))
    if not dry_run:
        run.erased, run.left = erase_due(registry, due, policy, actor=actor)
    return run


def _behind(conn: psycopg.Connection[Any]) -> int:
    status = read_status(conn, [Roster(), Stays()])
    return max((m["lag"] or 0 for m in status["models"]), default=0)
