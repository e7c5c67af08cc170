"""Events survive the orjson round trip with their types, and old versions are upcast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import orjson
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Mapper, StoredEvent

from campledger.domain.persistence.codec import FastMapper, OrjsonTranscoder, converter


class Outcome(StrEnum):
    CLEARED = "cleared"
    HELD = "held"


class Sample(Aggregate):
    class Registered(Aggregate.Created):
        code: str
        born: date | None
        arrived_at: datetime
        needs: tuple[str, ...]
        household: tuple[UUID, ...]
        site_id: UUID | None
        age: int | None
        weight: float
        flags: dict[str, Any]
        outcome: Outcome

    class Moved(Aggregate.Event):
        to_site: UUID
        occurred_at: datetime

    @event(Registered)
    def __init__(
        self,
        code: str,
        born: date | None,
        arrived_at: datetime,
        needs: tuple[str, ...],
        household: tuple[UUID, ...],
        site_id: UUID | None,
        age: int | None,
        weight: float,
        flags: dict[str, Any],
        outcome: Outcome,
    ) -> None:
        self.code = code

    @event(Moved)
    def move(self, to_site: UUID, occurred_at: datetime) -> None:
        self.site = to_site

    @event("Noted")
    def note(self, text: str, at: datetime, refs: tuple[UUID, ...] = ()) -> None:
        self.last_note = text


class Versioned(Aggregate):
    class Screened(Aggregate.Event):
        # v1 had no "step"; v2 added it, defaulting to "identity".
        class_version = 2
        outcome: str
        step: str
        occurred_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["step"] = "identity"

    @event(Screened)
    def screen(self, outcome: str, step: str, occurred_at: datetime) -> None:
        self.outcome = outcome


def sample() -> Sample:
    return Sample(
        code="KEN-001",
        born=date(2019, 3, 4),
        arrived_at=datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=3))),
        needs=("UASC", "SMC"),
        household=(uuid4(), uuid4()),
        site_id=uuid4(),
        age=None,
        weight=12.5,
        flags={"a": [1, 2], "b": None},
        outcome=Outcome.HELD,
    )


def round_trip(mapper: Mapper[UUID], domain_event: Any) -> Any:
    return mapper.to_domain_event(mapper.to_stored_event(domain_event))


def test_created_event_round_trips_with_its_types() -> None:
    mapper = FastMapper()
    aggregate = sample()
    created = aggregate.collect_events()[0]
    copy = round_trip(mapper, created)
    assert copy == created
    assert type(copy) is Sample.Registered
    assert isinstance(copy.originator_id, UUID)
    assert isinstance(copy.timestamp, datetime) and copy.timestamp.tzinfo is not None
    assert copy.arrived_at.utcoffset() == timedelta(hours=3)
    assert type(copy.needs) is tuple
    assert all(isinstance(h, UUID) for h in copy.household)
    assert isinstance(copy.site_id, UUID)
    assert copy.born == date(2019, 3, 4) and type(copy.born) is date
    assert copy.outcome is Outcome.HELD
    assert copy.flags == {"a": [1, 2], "b": None}


def test_aggregate_is_rebuilt_from_its_stored_events() -> None:
    mapper = FastMapper()
    aggregate = sample()
    aggregate.move(uuid4(), datetime.now(UTC))
    aggregate.note("checked", datetime.now(UTC), refs=(uuid4(),))
    events = aggregate.collect_events()
    copies = [round_trip(mapper, e) for e in events]
    assert copies == events
    rebuilt = None
    for e in copies:
        rebuilt = e.mutate(rebuilt)
    assert rebuilt is not None
    assert rebuilt.id == aggregate.id and rebuilt.version == aggregate.version


def test_optional_fields_stay_none() -> None:
    mapper = FastMapper()
    aggregate = Sample(
        code="X",
        born=None,
        arrived_at=datetime.now(UTC),
        needs=(),
        household=(),
        site_id=None,
        age=None,
        weight=0.0,
        flags={},
        outcome=Outcome.CLEARED,
    )
    created = aggregate.collect_events()[0]
    copy = round_trip(mapper, created)
    assert copy == created
    assert copy.born is None and copy.site_id is None and copy.needs == ()


def test_stored_state_is_plain_json_without_ids() -> None:
    mapper = FastMapper()
    created = sample().collect_events()[0]
    stored = mapper.to_stored_event(created)
    state = orjson.loads(stored.state)
    assert "originator_id" not in state and "originator_version" not in state
    assert state["needs"] == ["UASC", "SMC"]
    assert state["outcome"] == "held"
    assert "class_version" not in state


def test_old_versions_are_upcast_on_read() -> None:
    mapper = FastMapper()
    aggregate_id = uuid4()
    occurred = datetime(2025, 5, 6, 7, 8, tzinfo=UTC)
    v1_state = {"outcome": "cleared", "occurred_at": occurred.isoformat(), "timestamp": occurred}
    stored = StoredEvent(
        originator_id=aggregate_id,
        originator_version=2,
        topic=mapper.to_stored_event(_screened(aggregate_id)).topic,
        state=orjson.dumps(v1_state),
    )
    copy = mapper.to_domain_event(stored)
    assert isinstance(copy, Versioned.Screened)
    assert copy.step == "identity"
    assert copy.occurred_at == occurred
    assert copy.originator_id == aggregate_id


def test_current_version_is_written_with_its_class_version() -> None:
    mapper = FastMapper()
    screened = _screened(uuid4())
    stored = mapper.to_stored_event(screened)
    assert orjson.loads(stored.state)["class_version"] == 2
    assert round_trip(mapper, screened) == screened


def test_transcoder_writes_decimals_and_sets() -> None:
    transcoder = OrjsonTranscoder()
    assert orjson.loads(transcoder.encode({"d": Decimal("1.50"), "s": {"b", "a"}})) == {
        "d": "1.50",
        "s": ["a", "b"],
    }
    convert = converter(Decimal)
    assert convert is not None and convert("1.50") == Decimal("1.50")
    assert converter(str) is None and converter(int | None) is None


def _screened(aggregate_id: UUID) -> Versioned.Screened:
    return Versioned.Screened(  # type: ignore[call-arg]
        originator_id=aggregate_id,
        originator_version=2,
        timestamp=datetime.now(UTC),
        outcome="held",
        step="security",
        occurred_at=datetime.now(UTC),
    )
