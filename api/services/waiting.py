"""Read-your-writes without holding a connection: waiting for the read models to reach a
client's own write.

A read with ``wait_for=<position>`` used to poll the checkpoints on a pooled connection
for up to 5 s, so a dozen such requests from any token emptied the pool and the whole API
answered 503. Here one connection per API process listens for the projector's
notification after each batch and keeps the position every read model has reached;
waiting requests await it on the event loop, holding neither a connection nor a thread.
Waiters are capped per token and overall, and a position beyond the head of the log
(which cannot be reached by waiting) is refused at once by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from campledger.projections.event_log import PROJECTED_CHANNEL, checkpoints_query
from campledger.projections.readmodel import ReadModel

log = logging.getLogger(__name__)

# Without a notification (a lost one, a projector in another database session that died
# mid-commit), the reached position is read again this often.
REFRESH_SECONDS = 1.0
RETRY_CAP_SECONDS = 4.0


class TooManyWaiters(Exception):
    """More requests are already waiting than one caller (or the process) may have."""

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(scope, limit)
        self.scope = scope
        self.limit = limit


class ProjectionWatch:
    """The lowest checkpoint of the read models, kept current from the projector's
    notifications, and the requests waiting for it to reach their position."""

    def __init__(
        self,
        database_url: str,
        models: Sequence[ReadModel],
        *,
        max_waiters: int,
        max_waiters_per_caller: int,
    ) -> None:
        self.database_url = database_url
        self.models = list(models)
        self.max_waiters = max_waiters
        self.max_waiters_per_caller = max_waiters_per_caller
        self.reached = 0
        self._changed: asyncio.Condition | None = None
        self._waiting: Counter[str] = Counter()
        self._query = checkpoints_query(self.models)

    @property
    def waiting(self) -> int:
        return sum(self._waiting.values())

    async def follow(self) -> None:
        """Keep ``reached`` current until cancelled, reconnecting after an outage."""
        self._changed = asyncio.Condition()
        delay = 0.25
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True, application_name="campledger-api-watch"
                ) as conn:
                    await conn.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(PROJECTED_CHANNEL))
                    )
                    delay = 0.25
                    while True:
                        await self._refresh(conn)
                        async for _ in conn.notifies(timeout=REFRESH_SECONDS, stop_after=1):
                            pass
            except (
                psycopg.OperationalError,
                psycopg.InterfaceError,
                psycopg.ProgrammingError,
            ) as error:
                # ProgrammingError: read models not set up yet (a schema missing).
                log.warning(
                    "waiting for read models: %s; retry in %.2f s", type(error).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP_SECONDS)

    async def _refresh(self, conn: psycopg.AsyncConnection[Any]) -> None:
        cursor = await conn.execute(self._query)
        rows = await cursor.fetchall()
        reached = min((int(position or 0) for _, position in rows), default=0)
        if reached != self.reached and self._changed is not None:
            self.reached = reached
            async with self._changed:
                self._changed.notify_all()

    async def wait(self, position: int, caller: str, timeout: float) -> bool:
        """Wait until every read model has applied ``position``; False after ``timeout``."""
        if self.reached >= position:
            return True
        if self._changed is None:
            raise RuntimeError("the projection watch is not running")
        with self._admitted(caller):
            async with self._changed:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: self.reached >= position), timeout
                    )
                except TimeoutError:
                    return False
        return True

    @contextlib.contextmanager
    def _admitted(self, caller: str) -> Iterator[None]:
        if self._waiting[caller] >= self.max_waiters_per_caller:
            raise TooManyWaiters("token", self.max_waiters_per_caller)
        if self.waiting >= self.max_waiters:
            raise TooManyWaiters("server", self.max_waiters)
        self._waiting[caller] += 1
        try:
            yield
        finally:
            self._waiting[caller] -= 1
            if not self._waiting[caller]:
                del self._waiting[caller]
