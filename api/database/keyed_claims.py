"""Unique claims as the recorder stores them: registration numbers and biometric
references as keyed hashes under the key store's claims key, never the values
(docs/data-protection.md)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from campledger.api.database.keystore import PostgresKeyRing
from campledger.domain.service.journal import UniqueClaim


def claim_digest(key_ring: object, scope: str, value: str) -> str:
    """What the claims table holds for a unique value: its keyed hash under the key store's
    claims key (the value itself only without a key store: the domain tests' recorder)."""
    if isinstance(key_ring, PostgresKeyRing):
        return key_ring.claim_digest(scope, value)
    return value


def _digests(key_ring: object, claims: Sequence[UniqueClaim]) -> list[str]:
    if not isinstance(key_ring, PostgresKeyRing):
        return [c.value for c in claims]
    return key_ring.claim_digests([(c.scope, c.value) for c in claims])


def claim_columns(
    key_ring: object, claims: Sequence[UniqueClaim]
) -> tuple[list[str], list[str], list[UUID]]:
    """Claims as the recorder's three arrays (scope, keyed hash, owner)."""
    return (
        [c.scope for c in claims],
        _digests(key_ring, claims),
        [c.owner_id for c in claims],
    )
