"""A verification of the whole hash chain run in the background, one at a time, with its
progress for whoever is waiting on it.

Recomputing the chain of a large log takes seconds to minutes: a page cannot hold a
request open that long, so the check runs on a thread of its own and the page asks how
far it has got. Two auditors pressing "verify" at once share the one run rather than
doubling the load on the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from campledger.projections.verify import VerifyReport, verify_log


@dataclass(frozen=True)
class VerificationState:
    """What a page shows of the latest run: how far it got, and its report once done."""

    running: bool = False
    started_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    events: int = 0  # hashed so far
    position: int = 0  # reached so far
    head: int = 0  # the log's last position when the run began
    report: VerifyReport | None = None
    failure: str | None = None  # the run could not finish (e.g. the database went away)

    @property
    def percent(self) -> int:
        if not self.running:
            return 100 if self.report else 0
        return min(99, self.position * 100 // self.head) if self.head else 0


class Verifier:
    """The one verification of a database's log, and the state of its latest run."""

    def __init__(
        self,
        database_url: str,
        verify: Callable[..., VerifyReport] = verify_log,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database_url = database_url
        self._verify = verify
        self._now = now
        self._lock = threading.Lock()
        self._state = VerificationState()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> VerificationState:
        with self._lock:
            return self._state

    def start(self, actor: str) -> bool:
        """Start a run unless one is going (False: the running one goes on)."""
        with self._lock:
            if self._state.running:
                return False
            self._state = VerificationState(running=True, started_by=actor, started_at=self._now())
            self._thread = threading.Thread(target=self._run, name="verify-log", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> VerificationState:
        """The state once the current run (if any) is over: for tests and the CLI."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state

    def _progress(self, events: int, position: int, head: int) -> None:
        with self._lock:
            self._state = replace(self._state, events=events, position=position, head=head)

    def _run(self) -> None:
        try:
            report = self._verify(self._database_url, progress=self._progress)
        # Any failure is shown on the page rather than lost with the thread.
        except Exception as error:
            self._finish(None, f"{type(error).__name__}: {error}")
        else:
            self._finish(report, None)

    def _finish(self, report: VerifyReport | None, failure: str | None) -> None:
        with self._lock:
            self._state = replace(
                self._state, running=False, finished_at=self._now(), report=report,
                failure=failure, events=report.events if report else self._state.events,
            )  # fmt: skip
