"""A site: a place where people are received or hosted."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from campledger.domain.model import errors
from campledger.domain.model.events import RecordedEvent
from campledger.domain.model.pcodes import PCODE_MAX as PCODE_MAX
from campledger.domain.model.pcodes import parse_pcodes
from campledger.domain.model.values import (
    REASON_MAX,
    SiteKind,
    check_occurred_at,
    check_text,
    parse_enum,
)

MAX_CAPACITY = 10_000_000
SITE_CODE_MAX = 40


@lru_cache(maxsize=4096)  # a queue's thousand registrations at one site derive it once
def site_id(code: str) -> UUID:
    """Sites are addressed by code; deriving the id from it makes a second site with
    the same code clash in the event log itself, with no separate index."""
    return uuid5(NAMESPACE_URL, f"campledger:site:{code}")


def check_capacity(capacity: int) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise errors.InvalidInput("capacity must be a whole number")
    if not 0 <= capacity <= MAX_CAPACITY:
        raise errors.InvalidInput(f"capacity must be between 0 and {MAX_CAPACITY}")
    return capacity


def check_site_code(code: str) -> str:
    code = check_text("site code", code, max_length=SITE_CODE_MAX)
    if not all(c.isalnum() or c in "-_." for c in code):
        raise errors.InvalidInput("site code may hold letters, digits, '-', '_' and '.' only")
    return code


class Site(Aggregate):
    class Event(RecordedEvent):
        pass

    class Opened(Event, Aggregate.Created):
        code: str
        name: str
        kind: str
        capacity: int
        admin1_pcode: str | None
        admin2_pcode: str | None
        latitude: float | None
        longitude: float | None

    class CapacityChanged(Event):
        capacity: int
        reason: str

        def apply(self, site: Site) -> None:
            site.capacity = self.capacity

    class Closed(Event):
        reason: str

        def apply(self, site: Site) -> None:
            site.is_open = False

    @staticmethod
    def create_id(code: str) -> UUID:
        return site_id(code)

    def __deepcopy__(self, memo: dict[int, object]) -> Site:
        # Every attribute of a site is an immutable value (text, numbers, times, its id),
        # but for the list of events not yet saved, which are immutable themselves: its
        # attributes and a new list are a deep copy, at a tenth of copy.deepcopy's cost.
        # A unit of work copies the site for each command that reads it, a thousand for
        # a queue of registrations at one site (tests/domain/test_sites.py keeps it so).
        copied = object.__new__(type(self))
        copied.__dict__.update(vars(self))
        copied.__dict__["_pending_events"] = list(self._pending_events)
        return copied

    @classmethod
    def open(
        cls,
        *,
        code: str,
        name: str,
        kind: str,
        capacity: int,
        admin1_pcode: str | None = None,
        admin2_pcode: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        actor: str,
        occurred_at: datetime,
        now: datetime,
    ) -> Site:
        check_occurred_at(occurred_at, now, None)
        if latitude is not None and not -90 <= latitude <= 90:
            raise errors.InvalidInput("latitude must be between -90 and 90")
        if longitude is not None and not -180 <= longitude <= 180:
            raise errors.InvalidInput("longitude must be between -180 and 180")
        admin1, admin2 = parse_pcodes(admin1_pcode, admin2_pcode)
        return cls(
            code=check_site_code(code),
            name=check_text("site name", name),
            kind=parse_enum(SiteKind, kind, errors.InvalidInput).value,
            capacity=check_capacity(capacity),
            admin1_pcode=admin1,
            admin2_pcode=admin2,
            latitude=latitude,
            longitude=longitude,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event(Opened)
    def __init__(
        self,
        code: str,
        name: str,
        kind: str,
        capacity: int,
        admin1_pcode: str | None,
        admin2_pcode: str | None,
        latitude: float | None,
        longitude: float | None,
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.capacity = capacity
        self.admin1_pcode = admin1_pcode
        self.admin2_pcode = admin2_pcode
        self.latitude = latitude
        self.longitude = longitude
        self.is_open = True
        self.last_occurred_at = occurred_at

    def check_open(self) -> None:
        if not self.is_open:
            raise errors.SiteClosed(f"site {self.code} is closed", site=self.code)

    def change_capacity(
        self, *, capacity: int, reason: str, actor: str, occurred_at: datetime, now: datetime
    ) -> None:
        self.check_open()
        check_occurred_at(occurred_at, now, self.last_occurred_at)
        self.trigger_event(
            self.CapacityChanged,
            capacity=check_capacity(capacity),
            reason=check_text("reason", reason, max_length=REASON_MAX, required=False),
            actor=actor,
            occurred_at=occurred_at,
        )

    def close(self, *, reason: str, actor: str, occurred_at: datetime, now: datetime) -> None:
        self.check_open()
        check_occurred_at(occurred_at, now, self.last_occurred_at)
        self.trigger_event(
            self.Closed,
            reason=check_text("reason", reason, max_length=REASON_MAX, required=False),
            actor=actor,
            occurred_at=occurred_at,
        )
