"""The ledger: a hash chain over the event log, one link per position, kept as a read model.

    link_0 = 32 zero bytes
    link_n = SHA-256(link_{n-1} || encode(event n))
    encode(e) = int8(position) || uuid(originator_id) || int8(originator_version)
                || int4(len(topic)) || topic (UTF-8) || int4(len(state)) || state

``int8``/``int4`` are big-endian two's complement (PostgreSQL's ``int8send``/``int4send``),
``uuid`` the 16 raw bytes (``uuid_send``), lengths are in bytes. Every variable-length
field is length-prefixed, so no two different events encode to the same bytes. The links
run over the log in position order; positions may have gaps (a rolled-back insert uses up
its sequence number), and the position is inside each link, so removing a row or moving an
event to another position changes every later link. docs/audit.md gives the recipe to
recompute it with nothing but SQL or any SHA-256 tool.

Because the same bytes are encoded by PostgreSQL in ``verify`` (``ENCODE_SQL``) and by
Python here (``encode``), the two are tested against each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from psycopg import Cursor, sql

from campledger.projections.readmodel import Envelope, ReadModel

GENESIS = bytes(32)

# The same encoding computed by the server, so verify streams one bytea per event and
# Python does nothing but hash.
ENCODE_SQL = (
    "int8send(notification_id) || uuid_send(originator_id) || int8send(originator_version)"
    " || int4send(octet_length(topic)) || convert_to(topic, 'UTF8')"
    " || int4send(octet_length(state)) || state"
)


def encode(position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    topic_bytes = topic.encode()
    return b"".join(
        (
            position.to_bytes(8, "big", signed=True),
            originator_id.bytes,
            version.to_bytes(8, "big", signed=True),
            len(topic_bytes).to_bytes(4, "big", signed=True),
            topic_bytes,
            len(state).to_bytes(4, "big", signed=True),
            state,
        )
    )


def next_link(previous: bytes, encoded: bytes) -> bytes:
    return hashlib.sha256(previous + encoded).digest()


@dataclass(frozen=True, slots=True)
class Digest:
    """The chain's link at a position: what an auditor keeps to check the log later."""

    position: int
    digest: bytes

    @property
    def hex(self) -> str:
        return self.digest.hex()

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "digest": self.hex}


class Ledger(ReadModel):
    name: ClassVar[str] = "ledger"
    reads_raw_events: ClassVar[bool] = True
    ddl: ClassVar[Sequence[str]] = (
        "CREATE TABLE IF NOT EXISTS {schema}.links ("
        "position bigint PRIMARY KEY, digest bytea NOT NULL)",
    )

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        """Extend the chain by every event of the batch, whatever its type."""
        # The previous link is read from the table rather than kept in memory: a batch
        # that rolled back must not leave a link behind that the table never got.
        self.run(cur, "SELECT digest FROM {schema}.links ORDER BY position DESC LIMIT 1")
        row = cur.fetchone()
        link = bytes(row[0]) if row else GENESIS
        positions: list[int] = []
        digests: list[bytes] = []
        for e in batch:
            link = next_link(
                link, encode(e.position, e.originator_id, e.originator_version, e.topic, e.state)
            )
            positions.append(e.position)
            digests.append(link)
        self.run(
            cur,
            "INSERT INTO {schema}.links (position, digest) "
            "SELECT * FROM unnest(%b::bigint[], %b::bytea[])",
            (positions, digests),
        )


# --- queries ---------------------------------------------------------------------------


def current_digest(conn: psycopg.Connection[Any], schema: str | None = None) -> Digest | None:
    """The last link the ledger holds (None before the first event is projected)."""
    row = conn.execute(
        sql.SQL("SELECT position, digest FROM {}.links ORDER BY position DESC LIMIT 1").format(
            sql.Identifier(schema or Ledger.live_schema())
        )
    ).fetchone()
    return Digest(int(row[0]), bytes(row[1])) if row else None


def digest_at(
    conn: psycopg.Connection[Any], position: int, schema: str | None = None
) -> Digest | None:
    """The link stored at exactly this position, if the ledger has one there."""
    row = conn.execute(
        sql.SQL("SELECT position, digest FROM {}.links WHERE position = %s").format(
            sql.Identifier(schema or Ledger.live_schema())
        ),
        (position,),
    ).fetchone()
    return Digest(int(row[0]), bytes(row[1])) if row else None
