"""Personal data in the log, encrypted with a key of each person's own.

The log is append-only, and yet a person's names, date of birth and biometric reference
must be erasable from it. So they are never written in the clear: each personal field
of a person's events is encrypted (AES-256-GCM) under that person's own key, and erasing
the person destroys the key (crypto-shredding). Everything else an event says (sex, age,
nationality, sites, statuses, times, actors) stays readable, so counts and statistics
never depend on a key.

An event's personal values are sealed together, as one envelope (``seal_values``) bound
to the person and the event's version (the cipher's associated data): moved onto another
person or another event, it no longer opens. One envelope per event, not one per field:
registering 500 people seals 500 envelopes, not 2,000. Logs written with the first
format, one envelope per field bound to its name (``decrypt_field``), still open. The hash chain
(``verify``) covers the stored bytes, ciphertext included, so it keeps holding after an
erasure and still detects a changed byte.

The keys come from a ``KeyRing``: the PostgreSQL key store in production
(``api/database/keystore.py``), ``InMemoryKeyRing`` for the domain tests.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from campledger.domain.model.values import PERSONAL_FIELDS

__all__ = [
    "ENVELOPE_PREFIX",
    "SEALED",
    "InMemoryKeyRing",
    "KeyRing",
    "KeyStoreError",
    "PersonKeyMissing",
    "decrypt_field",
    "encrypt_field",
    "key_ring_for",
    "open_values",
    "personal_fields",
    "seal_values",
    "use_key_store",
]

# A stored personal value: this prefix, then base64 of nonce + ciphertext + tag. "pd1":
# personal data, envelope format 1. JSON keeps it a string, so the event stays JSON.
ENVELOPE_PREFIX = "pd1:"
# Format 2: every personal value of one event in one envelope, kept in the event's state
# under this name (no event class has a field of that name) in place of the values.
SEALED = "_personal"
SEALED_PREFIX = "pd2:"
KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12

# Topics whose events are about one person (their originator): their personal fields are
# encrypted under that person's key. Keyed by topic, not class, so that the rule holds for
# events stored under a module's earlier name too.
_PERSON_EVENT_MODULE = "campledger.domain.model.person:Person."

# Free text a person's events carry. A reason or a note is written by a registrar or a
# screener in the field, and may name the person or their family.
_FREE_TEXT = ("reason",)

# Which fields of each of a person's events are personal. Sex, age, nationality, sites,
# statuses, authorities and order references are not: statistics and custody rest on them.
_PERSONAL_BY_EVENT: Mapping[str, tuple[str, ...]] = {
    "Registered": PERSONAL_FIELDS,
    "ScreeningStepRecorded": _FREE_TEXT,
    "Held": _FREE_TEXT,
    "Released": _FREE_TEXT,
    "RemovedFromManifest": _FREE_TEXT,
    "DetailCorrected": _FREE_TEXT,
    "MergedInto": _FREE_TEXT,
    "DuplicateMerged": _FREE_TEXT,
}


class KeyStoreError(Exception):
    """The key store cannot give the keys the log needs; nothing is shown in the clear.

    Messages name persons by id at most, never a personal value.
    """


class PersonKeyMissing(KeyStoreError):
    """A person's key is neither in the key store nor recorded as erased: the key store
    was lost or is not the one this log was written with."""

    def __init__(self, person_id: UUID) -> None:
        super().__init__(
            f"the key store holds no key for person {person_id}, and no record that it was "
            "erased: the key store is not the one this event log was written with"
        )
        self.person_id = person_id


class KeyRing(Protocol):
    """Where the mapper finds each person's key."""

    def new_key(self, person_id: UUID) -> bytes:
        """A fresh key for a person being registered, saved with the person's first events."""
        ...

    def key_for(self, person_id: UUID) -> bytes | None:
        """The person's key; None when it was erased. Raises ``PersonKeyMissing`` when the
        store knows nothing of the person."""
        ...

    def prefetch(self, person_ids: Iterable[UUID]) -> None:
        """Load these persons' keys at once: a batch of events needs many."""
        ...

    def erasing(self, person_id: UUID) -> None:
        """The person's erasure is being saved: destroy their key with it."""
        ...


def personal_fields(topic: str, state: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields of this event (by its topic and state) that hold personal data."""
    if not topic.startswith(_PERSON_EVENT_MODULE):
        return ()
    name = topic[len(_PERSON_EVENT_MODULE) :]
    fields = _PERSONAL_BY_EVENT.get(name, ())
    if name == "DetailCorrected" and state.get("field") in PERSONAL_FIELDS:
        # A corrected name or date of birth is as personal as the registered one; a
        # corrected sex or nationality is not, and must survive erasure for the counts.
        return (*fields, "new_value")
    return fields


def about_a_person(topic: str) -> bool:
    """Is this one of a person's events (whose fields may need the person's key)?"""
    return topic.startswith(_PERSON_EVENT_MODULE)


def is_erasure(topic: str) -> bool:
    """Is this the event that erases a person's personal data (and destroys their key)?"""
    return topic == f"{_PERSON_EVENT_MODULE}PersonalDataErased"


def is_person_created(topic: str) -> bool:
    """Is this the event that brings a person into the log (and mints their key)?"""
    return topic == f"{_PERSON_EVENT_MODULE}Registered"


def _associated_data(person_id: UUID, field: str) -> bytes:
    return person_id.bytes + field.encode()


# The cipher of the last key used. A person's event holds several personal fields, sealed
# and opened one after another under the same key, and setting AES-GCM up for a key costs
# more than encrypting a name with it. One slot only: a key stays here just until another
# person's fields are sealed or opened.
_last_cipher: tuple[bytes, AESGCM] | None = None


def _cipher(key: bytes) -> AESGCM:
    global _last_cipher  # one slot, replaced whole: atomic under the GIL
    last = _last_cipher
    if last is not None and last[0] == key:
        return last[1]
    cipher = AESGCM(key)
    _last_cipher = (key, cipher)
    return cipher


def _event_data(person_id: UUID, version: int) -> bytes:
    return b"pd2" + person_id.bytes + version.to_bytes(8, "big")


def seal_values(key: bytes, person_id: UUID, version: int, values: Mapping[str, Any]) -> str:
    """An event's personal values (name -> JSON value), encrypted as one envelope bound to
    the person and the event's version."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, orjson.dumps(values), _event_data(person_id, version))
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def open_values(key: bytes, person_id: UUID, version: int, stored: Any) -> dict[str, Any]:
    """The personal values an event's envelope holds."""
    what = f"event {version} of person {person_id}"
    values: dict[str, Any] = _open_envelope(
        key, stored, SEALED_PREFIX, _event_data(person_id, version), what,
        missing=f"{what} has no readable envelope",
    )  # fmt: skip
    return values


def _open_envelope(
    key: bytes, stored: Any, prefix: str, associated: bytes, what: str, *, missing: str
) -> Any:
    """The JSON value an envelope of either format holds (``prefix``, ``associated``
    data); ``missing`` is the error when ``stored`` is no such envelope. Errors name the
    value (``what``), never its contents."""
    if not isinstance(stored, str) or not stored.startswith(prefix):
        raise KeyStoreError(missing)
    raw = base64.b64decode(stored[len(prefix) :])
    try:
        plain = _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated)
    except InvalidTag as e:
        raise KeyStoreError(f"{what} does not open with the person's key") from e
    return orjson.loads(plain)


def encrypt_field(key: bytes, person_id: UUID, field: str, value: Any) -> str:
    """The stored form of one personal value in the first format: its JSON, encrypted, as
    an envelope string (written only by tests now: format 2 seals an event at once)."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = orjson.dumps(value)
    sealed = _cipher(key).encrypt(nonce, plain, _associated_data(person_id, field))
    return ENVELOPE_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_field(key: bytes, person_id: UUID, field: str, stored: Any) -> Any:
    """The value an envelope holds. A value that is not an envelope is refused: a log
    written in the clear is not read as if nothing had happened."""
    what = f"field {field!r} of person {person_id}"
    return _open_envelope(
        key, stored, ENVELOPE_PREFIX, _associated_data(person_id, field), what,
        missing=f"{what} is not encrypted",
    )  # fmt: skip


class InMemoryKeyRing:
    """Person keys held in memory: for the domain tests, which use no database."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}
        self._lock = threading.Lock()

    def new_key(self, person_id: UUID) -> bytes:
        with self._lock:
            if person_id in self._keys:
                found = self._keys[person_id]
                if found is None:
                    raise KeyStoreError(f"person {person_id} was erased: no new key is made")
                return found
            key = self._keys[person_id] = AESGCM.generate_key(bit_length=256)
            return key

    def key_for(self, person_id: UUID) -> bytes | None:
        with self._lock:
            if person_id not in self._keys:
                raise PersonKeyMissing(person_id)
            return self._keys[person_id]

    def prefetch(self, person_ids: Iterable[UUID]) -> None:
        return None

    def erasing(self, person_id: UUID) -> None:
        self.destroy(person_id)

    def destroy(self, person_id: UUID) -> None:
        with self._lock:
            self._keys[person_id] = None


# How a Registry or a Projector built from a bare database address finds its key ring.
# The composition root (and the tests' setup) installs it once the master key is loaded:
# the domain knows no settings, no files and no SQL.
KeyRingFactory = Callable[[str], KeyRing]
_factories: list[KeyRingFactory] = []


def use_key_store(factory: KeyRingFactory) -> None:
    """Make ``factory`` (a database address to its key ring) the key store of this process."""
    _factories[:] = [factory]


def key_ring_for(conninfo: str) -> KeyRing:
    """The key ring of the database at this address, from the installed key store."""
    if not _factories:
        raise KeyStoreError(
            "no key store is configured: personal data can be neither written nor read"
        )
    return _factories[0](conninfo)


def library_conninfo(env: Any) -> str:
    """The libpq address of the library's PostgreSQL settings, for the key store."""

    def quoted(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    names = {"dbname": "DBNAME", "host": "HOST", "port": "PORT", "user": "USER"}
    parts = [f"{k}={quoted(str(env.get(f'POSTGRES_{v}')))}" for k, v in names.items()]
    password = env.get("POSTGRES_PASSWORD")
    if password:
        parts.append(f"password={quoted(str(password))}")
    return " ".join(parts)


def default_key_ring(env: Any, *, in_memory: bool) -> KeyRing:
    """A Registry's key ring when none is given: in memory for an in-memory Registry (the
    domain tests), else the installed key store's, for the library's database settings."""
    return InMemoryKeyRing() if in_memory else key_ring_for(library_conninfo(env))
