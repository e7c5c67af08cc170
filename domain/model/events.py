"""What every event of a site, a person or a transfer carries: who recorded it and when it
happened.

When it happened is the record's clock: an event may not be dated before the last one
(``values.check_occurred_at``), so each event moves the clock on as it is applied. Each
aggregate's own ``Event`` derives from this one; its events say only what is theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate


class RecordedEvent(Aggregate.Event):
    actor: str
    occurred_at: datetime

    def mutate(self, aggregate: Any) -> Any:
        # After the event's own ``apply``: an event that is refused moves nothing.
        record: Any = super().mutate(aggregate)
        record.last_occurred_at = self.occurred_at
        return record
