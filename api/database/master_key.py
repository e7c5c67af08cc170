"""The master key: the one secret that wraps every person's key (docs/data-protection.md).

It never enters the database: a file of 32 random bytes in base64, read at start. Its
bytes are never logged, printed or shown in an error.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from campledger.domain.persistence.personal_data import KEY_BYTES, KeyStoreError

_NONCE = 12
_CHECK_PLAINTEXT = b"campledger key store"
_CLAIMS_KEY_LABEL = b"campledger unique claims"


class WrongMasterKey(KeyStoreError):
    def __init__(self) -> None:
        super().__init__(
            "the master key does not open this database's key store: start with the master "
            "key file it was created with (CAMPLEDGER_MASTER_KEY_FILE)"
        )


class MasterKey:
    """The key that wraps every person key. Its bytes are never logged or shown."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyStoreError(f"a master key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "MasterKey(…)"

    def wrap(self, key: bytes, person_id: UUID | None) -> bytes:
        """A key sealed under the master key, bound to its person (None: the claims key)."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, key, _bound_to(person_id))

    def unwrap(self, wrapped: bytes, person_id: UUID | None) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _bound_to(person_id))
        except InvalidTag as e:
            raise WrongMasterKey() from e

    def check_value(self) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, _CHECK_PLAINTEXT, None)

    def opens(self, check_value: bytes) -> bool:
        try:
            self._aead.decrypt(check_value[:_NONCE], check_value[_NONCE:], None)
        except InvalidTag:
            return False
        return True


def _bound_to(person_id: UUID | None) -> bytes:
    return _CLAIMS_KEY_LABEL if person_id is None else person_id.bytes


def generate_master_key_file(path: Path) -> None:
    """Write a new random master key, readable by its owner only. Never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n"
    # O_EXCL: two processes starting at once must not each write a key of their own.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(encoded)


def read_master_key(path: Path) -> MasterKey:
    """The master key in this file (base64 of 32 bytes); a clear error naming the file only."""
    try:
        text = path.read_bytes().strip()
    except OSError as e:
        raise KeyStoreError(f"cannot read the master key file {path}: {e.strerror}") from e
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as e:
        raise KeyStoreError(f"the master key file {path} does not hold base64 text") from e
    if len(key) != KEY_BYTES:
        raise KeyStoreError(f"the master key file {path} holds {len(key)} bytes, not {KEY_BYTES}")
    return MasterKey(key)
