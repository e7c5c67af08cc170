"""Person history and as-of answers, on both time axes.

The scenario's field times (occurred_at) are a day before the recorded times, and one
receipt is synced late: it occurred before events that were recorded ahead of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from campledger.domain.history import REDACTED, person_history
from campledger.domain.model import errors
from campledger.domain.model.site import site_id
from campledger.domain.service.registry import Registry
from tests.projections.lifecycle import arrival, open_sites, register, t

OFFICER = "officer-1"
SCREENER = "screener-2"


@dataclass
class Story:
    child: UUID
    father: UUID
    duplicate: UUID
    transfer: UUID
    known_before_receipt: datetime  # recorded time after dispatch, before any receipt
    known_before_late_sync: datetime  # after the child's receipt and correction


def story(registry: Registry) -> Story:
    open_sites(registry)
    child, father, duplicate = register(
        registry,
        "RC-1",
        arrival("R-001", given_name="Amna", date_of_birth=date(2015, 6, 1), estimated_age=None),
        arrival("R-002", sex="male"),
        arrival("R-003", sex="male", estimated_age=31),
    )
    transfer = UUID(
        registry.plan_transfer(
            origin="RC-1", destination="CAMP-1", manifest=[child],
            order_reference="ORD-7", occurred_at=t(3), actor=OFFICER,
        ).result["transfer_id"]
    )  # fmt: skip
    registry.dispatch_transfer(transfer_id=transfer, occurred_at=t(4), actor=OFFICER)
    known_before_receipt = datetime.now(UTC)
    registry.receive_transfer(
        transfer_id=transfer, site_code="CAMP-1", persons=[child], occurred_at=t(5),
        actor=SCREENER,
    )  # fmt: skip
    registry.correct_detail(
        person_id=child, field="given_name", value="Amina", reason="spelling",
        occurred_at=t(6), actor=SCREENER,
    )  # fmt: skip
    registry.correct_detail(
        person_id=child, field="sex", value="male", reason="data entry",
        occurred_at=t(6), actor=SCREENER,
    )  # fmt: skip
    known_before_late_sync = datetime.now(UTC)
    # Synced late from an offline device: occurred at 4.5, before the child's receipt.
    registry.hold_person(
        person_id=father, reason="security interview", occurred_at=t(4.5), actor="device-9"
    )
    registry.release_person(person_id=father, reason="cleared", occurred_at=t(6.5), actor=OFFICER)
    registry.merge_persons(
        duplicate_id=duplicate, survivor_id=father, reason="same fingerprints",
        occurred_at=t(7), actor=OFFICER,
    )  # fmt: skip
    return Story(child, father, duplicate, transfer, known_before_receipt, known_before_late_sync)


def test_history_lists_every_event_with_who_when_where_and_the_state_after(
    registry: Registry,
) -> None:
    s = story(registry)
    history = person_history(registry, s.child)
    actions = [e.action for e in history.entries]
    assert actions == [
        "registered", "placed_on_manifest", "transfer_dispatched", "transfer_received",
        "detail_corrected", "detail_corrected",
    ]  # fmt: skip
    assert [e.version for e in history.entries] == [1, 2, 3, 4, 5, 6]
    assert [e.actor for e in history.entries][-3:] == [SCREENER] * 3
    assert [e.occurred_at for e in history.entries] == [t(1), t(3), t(4), t(5), t(6), t(6)]
    recorded = [e.recorded_at for e in history.entries]
    assert recorded == sorted(recorded)
    assert all(e.recorded_at > e.occurred_at for e in history.entries)
    assert [e.state["status"] for e in history.entries] == [
        "present", "present", "in_transit", "present", "present", "present",
    ]  # fmt: skip
    assert [e.site_code for e in history.entries] == [
        "RC-1", "RC-1", "CAMP-1", "CAMP-1", "CAMP-1", "CAMP-1",
    ]  # fmt: skip
    # On whose order: the transfer's order reference is on every transfer step.
    for entry in history.entries[1:4]:
        assert entry.reference["transfer_id"] == s.transfer
        assert entry.reference["order_reference"] == "ORD-7"
    assert history.entries[4].reason == "spelling"
    # The correction changed the state from that event on; the original stays in history.
    assert history.entries[4].state["sex"] == "female"
    assert history.entries[5].state["sex"] == "male"
    assert history.entries[5].reference["new_value"] == "male"
    # And the value it replaced, read from the state before it: no event stores it.
    assert history.entries[5].reference["old_value"] == "female"


def test_personal_data_only_when_asked(registry: Registry) -> None:
    s = story(registry)
    plain = person_history(registry, s.child)
    assert "given_name" not in plain.entries[0].state
    assert "date_of_birth" not in plain.entries[0].state
    assert plain.entries[4].reference["new_value"] == REDACTED
    assert plain.entries[4].reference["old_value"] == REDACTED
    assert "Amna" not in str(plain.as_dict())
    personal = person_history(registry, s.child, include_personal=True)
    assert personal.entries[0].state["given_name"] == "Amna"
    assert personal.entries[4].state["given_name"] == "Amina"
    assert personal.entries[4].reference["new_value"] == "Amina"
    assert personal.entries[4].reference["old_value"] == "Amna"


def test_as_of_occurred_time_includes_a_late_synced_event(registry: Registry) -> None:
    s = story(registry)
    # In field time the father was held at 4.5, though the record came in after later ones.
    at = person_history(registry, s.father, as_of=t(4.7))
    assert at.state is not None
    assert (at.state["status"], at.state["site_code"]) == ("held", "RC-1")
    assert at.entries[-1].actor == "device-9"
    before = person_history(registry, s.father, as_of=t(4.2))
    assert before.state is not None and before.state["status"] == "present"
    assert person_history(registry, s.father, as_of=t(0.5)).state is None


def test_known_at_recorded_time_does_not_see_what_was_synced_later(registry: Registry) -> None:
    s = story(registry)
    known = person_history(registry, s.father, known_at=s.known_before_late_sync)
    assert known.state is not None and known.state["status"] == "present"
    assert [e.action for e in known.entries] == ["registered"]
    # Both axes together: what we knew then about their status at 4.7 in the field.
    both = person_history(registry, s.father, as_of=t(4.7), known_at=s.known_before_late_sync)
    assert both.state is not None and both.state["status"] == "present"
    child = person_history(registry, s.child, known_at=s.known_before_receipt)
    assert [e.action for e in child.entries][-1] == "transfer_dispatched"
    later = person_history(registry, s.child, known_at=s.known_before_late_sync)
    assert later.state is not None and later.state["sex"] == "male"


def test_merge_shows_on_both_records_and_duplicate_history_on_request(
    registry: Registry,
) -> None:
    s = story(registry)
    survivor = person_history(registry, s.father)
    last = survivor.entries[-1]
    assert last.action == "duplicate_merged"
    assert last.reference["duplicate_id"] == s.duplicate
    assert last.reference["duplicate_registration_number"] == "R-003"
    assert survivor.duplicates == {}
    duplicate = person_history(registry, s.duplicate)
    assert duplicate.entries[-1].action == "merged_into"
    assert duplicate.entries[-1].reference["survivor_id"] == s.father
    assert duplicate.state is not None
    assert (duplicate.state["status"], duplicate.state["merged_into"]) == ("merged", s.father)
    with_duplicates = person_history(registry, s.father, include_duplicates=True)
    assert [e.action for e in with_duplicates.duplicates[s.duplicate]] == [
        "registered", "merged_into",
    ]  # fmt: skip
    # Before the merge (in field time) neither record shows it.
    assert person_history(registry, s.duplicate, as_of=t(6)).state["status"] == "present"  # type: ignore[index]


def test_history_of_an_unknown_id_or_a_site_is_not_found(registry: Registry) -> None:
    open_sites(registry)
    with pytest.raises(errors.PersonNotFound):
        person_history(registry, uuid4())
    with pytest.raises(errors.PersonNotFound):
        person_history(registry, site_id("RC-1"))


def test_as_of_needs_a_time_zone(registry: Registry) -> None:
    s = story(registry)
    with pytest.raises(errors.InvalidInput):
        person_history(registry, s.child, as_of=datetime(2025, 3, 1, 9, 0))


def test_history_serialises_to_json_types(registry: Registry) -> None:
    import json

    s = story(registry)
    body = person_history(registry, s.father, include_duplicates=True).as_dict()
    assert json.loads(json.dumps(body))["events"][0]["action"] == "registered"


def test_a_corrected_date_of_birth_shows_the_old_date_as_the_event_stores_dates(
    registry: Registry,
) -> None:
    import json

    s = story(registry)
    registry.correct_detail(
        person_id=s.child, field="date_of_birth", value="2014-06-01", reason="card",
        occurred_at=t(8), actor=SCREENER,
    )  # fmt: skip
    last = person_history(registry, s.child, include_personal=True).entries[-1]
    assert (last.reference["old_value"], last.reference["new_value"]) == (
        "2015-06-01",
        "2014-06-01",
    )
    body = json.loads(json.dumps(person_history(registry, s.child).as_dict()))
    assert body["events"][-1]["reference"]["old_value"] == "[personal]"
