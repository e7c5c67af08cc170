"""Personal fields sealed per person: which fields, bound to whom, refused when tampered."""

from __future__ import annotations

from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from campledger.domain.persistence.codec import FastMapper
from campledger.domain.persistence.personal_data import (
    SEALED,
    InMemoryKeyRing,
    KeyStoreError,
    PersonKeyMissing,
    decrypt_field,
    encrypt_field,
    open_values,
    personal_fields,
    seal_values,
)
from tests.domain.support import make_registry, open_site, register

PERSON = "campledger.domain.model.person:Person."


def test_the_personal_fields_of_each_event() -> None:
    registered = personal_fields(PERSON + "Registered", {})
    assert set(registered) == {
        "given_name",
        "family_name",
        "given_name_latin",
        "family_name_latin",
        "date_of_birth",
        "biometric_reference",
    }
    assert personal_fields(PERSON + "Held", {}) == ("reason",)
    # A corrected name is personal; a corrected sex or nationality is a fact the counts need.
    assert "new_value" in personal_fields(PERSON + "DetailCorrected", {"field": "given_name"})
    assert "new_value" not in personal_fields(PERSON + "DetailCorrected", {"field": "sex"})
    assert personal_fields("campledger.domain.model.site:Site.Opened", {}) == ()
    assert personal_fields(PERSON + "TransferReceived", {}) == ()


def test_a_sealed_value_opens_only_for_its_person_and_field() -> None:
    key, person, other = bytes(range(32)), uuid4(), uuid4()
    sealed = encrypt_field(key, person, "given_name", "Amina")
    assert "Amina" not in sealed and sealed.startswith("pd1:")
    assert decrypt_field(key, person, "given_name", sealed) == "Amina"
    with pytest.raises(KeyStoreError, match="does not open"):
        decrypt_field(key, other, "given_name", sealed)
    with pytest.raises(KeyStoreError, match="does not open"):
        decrypt_field(key, person, "family_name", sealed)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(KeyStoreError):
        decrypt_field(key, person, "given_name", tampered)
    # A value stored in the clear is not taken for one that was sealed.
    with pytest.raises(KeyStoreError, match="not encrypted"):
        decrypt_field(key, person, "given_name", "Amina")


def test_an_events_envelope_opens_only_for_its_person_and_version() -> None:
    key, person, other = bytes(range(32)), uuid4(), uuid4()
    values = {"given_name": "Amina", "date_of_birth": "1990-01-02"}
    sealed = seal_values(key, person, 3, values)
    assert "Amina" not in sealed and sealed.startswith("pd2:")
    assert open_values(key, person, 3, sealed) == values
    for person_id, version in ((other, 3), (person, 4)):
        with pytest.raises(KeyStoreError, match="does not open"):
            open_values(key, person_id, version, sealed)
    with pytest.raises(KeyStoreError, match="does not open"):
        open_values(bytes(32), person, 3, sealed)
    with pytest.raises(KeyStoreError, match="no readable envelope"):
        open_values(key, person, 3, "Amina")


def test_an_event_stored_in_the_first_format_still_opens() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    person_id = register(registry, given_name="Amina", biometric_reference="BIO-1")
    [event] = registry.repository.event_store.get(person_id)
    stored = registry.mapper.to_stored_event(event)
    state = orjson.loads(stored.state)
    key = registry.key_ring.key_for(person_id)
    assert key is not None
    # The first format: each value its own envelope, bound to its field's name.
    for name, value in open_values(key, person_id, 1, state.pop(SEALED)).items():
        state[name] = encrypt_field(key, person_id, name, value)
    old = StoredEvent(stored.originator_id, 1, stored.topic, orjson.dumps(state))
    opened = registry.mapper.to_domain_event(old)
    assert (opened.given_name, opened.biometric_reference) == ("Amina", "BIO-1")  # type: ignore[attr-defined]


def test_stored_events_hold_ciphertext_and_read_back_whole() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    person_id = register(
        registry, given_name="Amina", family_name="Haroun", biometric_reference="BIO-77"
    )
    mapper = registry.mapper
    [stored] = [mapper.to_stored_event(e) for e in registry.repository.event_store.get(person_id)]
    assert b"Amina" not in stored.state and b"Haroun" not in stored.state
    assert b"BIO-77" not in stored.state
    assert b"female" in stored.state and b"SDN" in stored.state  # statistics stay readable
    # One envelope for the event, in place of every personal field it sealed.
    state = orjson.loads(stored.state)
    assert state[SEALED].startswith("pd2:") and "given_name" not in state
    event = mapper.to_domain_event(stored)
    assert (event.given_name, event.biometric_reference) == ("Amina", "BIO-77")  # type: ignore[attr-defined]


def test_without_its_key_a_person_event_is_refused_or_shows_nothing() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    person_id = register(registry, given_name="Amina")
    [event] = registry.repository.event_store.get(person_id)
    stored = registry.mapper.to_stored_event(event)

    stranger = FastMapper(key_ring=InMemoryKeyRing())
    with pytest.raises(PersonKeyMissing, match=str(person_id)):
        stranger.to_domain_event(stored)
    with pytest.raises(KeyStoreError, match="key store"):
        FastMapper().to_domain_event(stored)

    ring = registry.key_ring
    assert isinstance(ring, InMemoryKeyRing)
    ring.destroy(person_id)
    erased = registry.mapper.to_domain_event(stored)
    assert erased.given_name is None and erased.sex == "female"  # type: ignore[attr-defined]


def test_sealed_text_moved_onto_another_person_does_not_open() -> None:
    registry = make_registry()
    open_site(registry, "RC-1")
    first, second = register(registry, given_name="Amina"), register(registry, given_name="Zahra")
    [a] = registry.repository.event_store.get(first)
    [b] = registry.repository.event_store.get(second)
    stored_a, stored_b = registry.mapper.to_stored_event(a), registry.mapper.to_stored_event(b)
    swapped = StoredEvent(
        originator_id=stored_b.originator_id,
        originator_version=stored_b.originator_version,
        topic=stored_b.topic,
        state=stored_a.state,
    )
    with pytest.raises(KeyStoreError, match="does not open"):
        registry.mapper.to_domain_event(swapped)
