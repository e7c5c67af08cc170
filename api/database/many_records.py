"""Reading the events of many records in one query, for a unit of work's look-ups.

A field device's queue of 1,000 commands acts on as many persons (or registers them under
ids it minted): read one by one, that is 1,000 round trips before anything is decided.
Mixed into the recorder (``recorder.CampledgerRecorder``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier


class ManyRecordsReader:
    datastore: PostgresDatastore
    events_table_name: str

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of(self, ids: Collection[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The events of each of these records that has any, in order."""
        if not ids:
            return {}
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
            "WHERE originator_id = ANY(%b) ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(self.datastore.schema), events=Identifier(self.events_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(ids),))
            rows = curs.fetchall()
        found: dict[UUID, list[StoredEvent]] = defaultdict(list)
        for row in rows:
            found[row["originator_id"]].append(
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            )
        return dict(found)
