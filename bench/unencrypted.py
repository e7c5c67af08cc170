"""The baseline of the encryption benchmarks: campledger as it would be without per-person keys.

The same Registry, recorder and mapper, less what encrypting personal data adds: no
person's fields are sealed on the way out or opened on the way in, no key is minted,
wrapped under the master key or written with the events, and unique claims are stored as
the values themselves instead of their keyed hashes (the recorder has no key ring). It
exists only for measuring: a log written this way holds personal data in the clear, and
the product's own Registry and Projector refuse to read it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from campledger.domain.persistence.codec import FastMapper
from campledger.domain.service.registry import Registry


class UnencryptedMapper(FastMapper):
    """``FastMapper`` whose personal fields are written and read as they are."""

    def __init__(self) -> None:
        super().__init__(key_ring=None)

    def _seal(
        self,
        topic: str,
        person_id: UUID,
        version: int,
        state: dict[str, Any],
        fields: tuple[str, ...],
    ) -> None:
        return None

    def _open(
        self, person_id: UUID, version: int, state: dict[str, Any], fields: tuple[str, ...]
    ) -> None:
        return None


class UnencryptedRegistry(Registry):
    """A Registry with the mapper above and a recorder that holds no key ring: no keys are
    written and claims are not hashed."""

    # The library names an application's tables after it: the same tables as campledger's.
    name = "Registry"

    def construct_mapper(self) -> Mapper[UUID]:
        # Registry.construct_recorder hands this to the recorder: None means no key store.
        self.key_ring = None  # type: ignore[assignment]
        return UnencryptedMapper()


def unencrypted_decoder(conninfo: str) -> UnencryptedMapper:
    """A Projector's decoder for a log written by ``UnencryptedRegistry`` (picklable, for a
    rebuild's helper processes)."""
    return UnencryptedMapper()
