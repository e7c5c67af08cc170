"""The event log as the read side sees it: its head, the batches read from it, and the
position each read model has applied (its checkpoint).

The log is safe to tail by position: the event recorder takes an exclusive table lock for
every insert, so positions are committed in the order they are issued and no slower
transaction can later fill a gap behind a reader.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent, Tracking
from psycopg import sql

from campledger.domain.persistence.codec import FastMapper
from campledger.domain.persistence.personal_data import about_a_person, key_ring_for
from campledger.projections import quarantine
from campledger.projections.catalog import READ_MODELS
from campledger.projections.readmodel import Envelope, ReadModel, Undecodable

EVENTS_TABLE = "registry_events"
# The channel the event recorder NOTIFYs on every insert (the library names it after the table).
EVENTS_CHANNEL = "registry_events"
# The name checkpoints are recorded under (the library's tracking records).
APPLICATION_NAME = "Registry"
# Sent when a batch (or a rebuild's swap) commits, so API processes waiting for a client's
# own write wake at once instead of polling the checkpoints.
PROJECTED_CHANNEL = "campledger_projected"


def default_mapper(conninfo: str) -> Mapper[Any]:
    """Events decoded with the key ring of this database's key store, as installed for the
    process by the composition root: personal fields open, an erased person's are None."""
    return FastMapper(key_ring=key_ring_for(conninfo))


def head_position(conn: psycopg.Connection[Any]) -> int:
    """The last position written to the log (0 when it is empty)."""
    row = conn.execute(
        sql.SQL("SELECT COALESCE(MAX(notification_id), 0) FROM {}").format(
            sql.Identifier(EVENTS_TABLE)
        )
    ).fetchone()
    return int(row[0]) if row else 0


def read_batch(
    cur: psycopg.Cursor[Any], mapper: Mapper[Any], after: int, limit: int
) -> list[Envelope]:
    """Up to ``limit`` events after position ``after``, in order, each decoded once."""
    cur.execute(
        sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(sql.Identifier(EVENTS_TABLE)),
        (after, limit),
        prepare=True,
    )
    to_event = mapper.to_domain_event
    rows = cur.fetchall()
    key_ring = getattr(mapper, "key_ring", None)
    if key_ring is not None:
        # One query for the batch's keys, not one per person.
        key_ring.prefetch({row[1] for row in rows if about_a_person(row[3])})
    batch = []
    for position, originator_id, version, topic, state in rows:
        state = bytes(state)
        event: Any
        try:
            event = to_event(StoredEvent(originator_id, version, topic, state))
        except Exception as error:
            # Set aside per read model when applied; the ledger still chains its bytes.
            event = Undecodable(quarantine.describe(error))
        batch.append(Envelope(position, originator_id, version, topic, event, state))
    return batch


# --- checkpoints ----------------------------------------------------------------------------


def record_checkpoint(cur: psycopg.Cursor[Any], model: ReadModel, position: int) -> None:
    tracking = Tracking(application_name=APPLICATION_NAME, notification_id=position)
    cur.execute(
        model.q(
            "INSERT INTO {schema}.tracking AS t (application_name, notification_id) "
            "VALUES (%s, %s) ON CONFLICT (application_name) DO UPDATE "
            "SET notification_id = EXCLUDED.notification_id "
            "WHERE t.notification_id < EXCLUDED.notification_id"
        ),
        (tracking.application_name, tracking.notification_id),
    )


def checkpoints_of(conn: psycopg.Connection[Any], models: Sequence[ReadModel]) -> dict[str, int]:
    """Each model's last applied position (0 if none)."""
    if not models:
        return {}
    rows = conn.execute(checkpoints_query(models)).fetchall()
    return {name: int(position or 0) for name, position in rows}


def checkpoints_query(models: Sequence[ReadModel]) -> sql.Composed:
    """One statement answering (name, checkpoint or NULL) for each of ``models``."""
    parts = [
        sql.SQL(
            "SELECT {} AS name, (SELECT notification_id FROM {}.tracking "
            "WHERE application_name = {})"
        ).format(sql.Literal(m.name), sql.Identifier(m.schema), sql.Literal(APPLICATION_NAME))
        for m in models
    ]
    return sql.SQL(" UNION ALL ").join(parts)


def reached_position(conn: psycopg.Connection[Any]) -> int:
    """The position every read model of the catalog has applied."""
    return min(checkpoints_of(conn, [cls() for cls in READ_MODELS]).values(), default=0)


def wait_for_position(
    conn: psycopg.Connection[Any],
    position: int,
    timeout: float,
    models: Sequence[ReadModel] | None = None,
) -> bool:
    """Block until every read model has applied ``position`` (or the timeout passes)."""
    if models is None:
        models = [cls() for cls in READ_MODELS]
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if min(checkpoints_of(conn, models).values(), default=position) >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.1)
