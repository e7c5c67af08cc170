"""What every console request reaches: the database pool, the account rules, the clock.

The console is mounted inside the API's application and shares its pool, which the API's
lifespan opens: the console reads it from the host application's state at each request.
The clock is a field so that tests move it by hand (session expiry, slow-down).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from psycopg_pool import ConnectionPool
from starlette.datastructures import State

from campledger.api.services.accounts import AccountPolicy
from campledger.api.settings import Settings

if TYPE_CHECKING:
    # The pages import the session, which reads this context: a type only, to break the loop.
    from campledger.api.console.pages import Navigation


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleContext:
    host: State
    policy: AccountPolicy
    zone: ZoneInfo
    navigation: Navigation
    # Mark the session cookie Secure even on plain HTTP (TLS ends at a proxy in front).
    secure_cookies: bool = False
    clock: Callable[[], datetime] = field(default=_utc_now)

    @classmethod
    def from_settings(
        cls, host: State, settings: Settings, navigation: Navigation
    ) -> ConsoleContext:
        return cls(
            host=host,
            policy=AccountPolicy.from_settings(settings),
            zone=ZoneInfo(settings.time_zone),
            navigation=navigation,
            secure_cookies=settings.secure_cookies,
        )

    @property
    def pool(self) -> ConnectionPool[Any]:
        pool: ConnectionPool[Any] = self.host.pool
        return pool

    def now(self) -> datetime:
        return self.clock()
