"""Erasing a person's personal data: the key goes, the record forgets, the facts stay."""

from __future__ import annotations

import pytest

from campledger.domain.history import ERASED, REDACTED, person_history
from campledger.domain.model.errors import DomainError, InvalidInput
from campledger.domain.persistence.personal_data import InMemoryKeyRing
from tests.domain.support import ACTOR, make_registry, open_site, person, register


def _erase(registry, person_id, basis="subject_request", order_reference=""):  # type: ignore[no-untyped-def]
    return registry.erase_personal_data(
        person_id=person_id, basis=basis, order_reference=order_reference, actor=ACTOR
    )


def test_an_erased_person_keeps_their_facts_and_loses_their_personal_data() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    erased = register(registry, given_name="Amina", biometric_reference="BIO-1")
    kept = register(registry, given_name="Zahra")
    _erase(registry, erased)

    record = person(registry, erased)
    assert record.erased and record.given_name is None and record.biometric_reference is None
    assert (record.sex, record.nationality, record.site_code) == ("female", "SDN", "RC-1")
    assert person(registry, kept).given_name == "Zahra"
    ring = registry.key_ring
    assert isinstance(ring, InMemoryKeyRing) and ring.key_for(erased) is None

    # The record read back from the log (a fresh copy) shows the same.
    [*events] = registry.repository.event_store.get(erased)
    assert events[0].given_name is None and events[-1].basis == "subject_request"  # type: ignore[attr-defined]


def test_an_erasure_gives_up_the_persons_claims() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    erased = register(registry, registration_number="REG-77", biometric_reference="BIO-77")
    _erase(registry, erased)
    # The values are free again: nothing about the erased person holds them.
    register(registry, registration_number="REG-77", biometric_reference="BIO-77")


def test_an_erasure_is_not_repeated_and_nothing_personal_is_recorded_again() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    erased = register(registry)
    _erase(registry, erased)
    with pytest.raises(DomainError) as twice:
        _erase(registry, erased)
    assert twice.value.code == "personal-data-erased"
    with pytest.raises(DomainError) as corrected:
        registry.correct_detail(
            person_id=erased, field="given_name", value="Amina", reason="typo", actor=ACTOR
        )
    assert corrected.value.code == "personal-data-erased"
    # Facts may still be corrected, and later steps recorded, without their free text.
    registry.correct_detail(person_id=erased, field="sex", value="male", reason="typo", actor=ACTOR)
    registry.hold_person(person_id=erased, reason="Amina's brother said so", actor=ACTOR)
    held = registry.repository.event_store.get(erased)
    assert [e.reason for e in held if type(e).__name__ == "Held"] == [None]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("basis", "reference", "message"),
    [
        ("because", "", "basis must be one of"),
        ("court_order", " ", "order_reference is required"),
    ],
)
def test_a_bad_erasure_is_refused_and_writes_nothing(
    basis: str, reference: str, message: str
) -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    person_id = register(registry)
    version = person(registry, person_id).version
    with pytest.raises(InvalidInput, match=message):
        _erase(registry, person_id, basis=basis, order_reference=reference)
    assert person(registry, person_id).version == version
    assert not person(registry, person_id).erased


def test_an_erased_persons_history_marks_every_personal_value_erased() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    erased = register(registry, given_name="Amina", biometric_reference="BIO-9")
    registry.correct_detail(
        person_id=erased, field="given_name", value="Aminah", reason="Aminah's card", actor=ACTOR
    )
    registry.correct_detail(person_id=erased, field="sex", value="male", reason="typo", actor=ACTOR)
    registry.record_screening_step(person_id=erased, step="medical", outcome="cleared", actor=ACTOR)
    before = person_history(registry, erased, include_personal=True)
    assert not before.erased and before.state is not None
    assert before.state["given_name"] == "Aminah"
    _erase(registry, erased)

    # Cut before the erasure as after it: the values are gone for good either way.
    for cut in (None, before.entries[-1].recorded_at):
        found = person_history(registry, erased, known_at=cut, include_personal=True)
        registered, named, sexed, screened = found.entries[:4]
        assert found.erased
        assert registered.state["given_name"] == ERASED
        assert registered.state["biometric_reference"] == ERASED
        assert named.reason == ERASED
        assert (named.reference["old_value"], named.reference["new_value"]) == (ERASED, ERASED)
        # What was never personal, or never written, reads as it was.
        assert sexed.reference["new_value"] == "male" and screened.reason is None
        assert registered.state["sex"] == "female" and sexed.state["sex"] == "male"
        assert "Amin" not in repr(found.as_dict())
    final = person_history(registry, erased, include_personal=True)
    assert final.state is not None and final.state["erased"] is True
    # Without personal data asked for, nothing personal is shown at all.
    hidden = person_history(registry, erased)
    assert "given_name" not in hidden.entries[0].state
    assert hidden.entries[1].reference["new_value"] == REDACTED
