"""A request-rate limit per token: a token bucket for each API token, in this process.

A field device stuck in a retry loop, or a stolen token used to scrape rosters, should
slow down without taking the server from everyone else. Each token may send ``burst``
requests at once and ``per_second`` on average; past that it gets 429 with Retry-After.
The buckets are keyed by the token's id, so only authenticated requests are counted (a
wrong secret never reaches a bucket and cannot drain another caller's). With several
uvicorn workers each has its own buckets: the limit is per process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from campledger.api.services.problems import ApiProblem


class RateLimiter:
    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens left, when)

    def wait(self, key: str) -> float:
        """Take one request from ``key``'s bucket: 0 if it may go ahead, otherwise the
        seconds until it may (nothing is taken then)."""
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second

    def check(self, key: str) -> None:
        """Raise 429 (problem+json, with Retry-After) when ``key`` is over its rate."""
        seconds = self.wait(key)
        if seconds > 0:
            problem = ApiProblem(
                429,
                "too-many-requests",
                "Too many requests",
                f"this token may send {self.per_second:g} requests a second "
                f"(bursts of {self.burst}); retry after the delay given",
            )
            problem.headers["Retry-After"] = str(max(1, math.ceil(seconds)))
            raise problem


def from_settings(per_second: float, burst: int) -> RateLimiter | None:
    """The limiter the settings ask for; None when the limit is switched off (rate 0)."""
    return RateLimiter(per_second, burst) if per_second > 0 else None
