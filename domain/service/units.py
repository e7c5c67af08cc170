"""Several commands decided in order and saved in one transaction: a field device's queue.

``apply_together`` saves all of them or none; ``apply_each`` leaves out the ones refused
and saves the others. Each command is decided exactly as when it runs alone, against what
the commands before it did (``unit_of_work``), and what they will look up is read for all
of them at the start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording

from campledger.domain.commands.base import Command
from campledger.domain.model import errors
from campledger.domain.service.journal import CommandJournal
from campledger.domain.service.records import StoredRecords
from campledger.domain.service.results import CommandResult
from campledger.domain.service.unit_of_work import StepFailed, UnitOfWork

# A unit of work that lost a race is decided again from what is stored now; past this
# many tries the clients keep colliding and one of them should come back later.
UNIT_ATTEMPTS = 3


class UnitsOfWork(StoredRecords):
    """Applying several commands as one save (the ``Registry`` is one of these)."""

    def _store(self, processing: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Record everything processed, in one transaction (the Registry's)."""
        raise NotImplementedError

    def apply_together(
        self,
        steps: Sequence[Callable[[], CommandResult]],
        keys: Sequence[tuple[str, str]] = (),
        commands: Sequence[Command | None] = (),
    ) -> list[CommandResult]:
        """Apply commands all or nothing: each step calls one command, decided against what
        the steps before it did; everything is saved in one transaction at the end.

        A step that raises stops the unit with ``StepFailed`` (its index and error), and
        nothing is saved. A step whose idempotency key was seen before is a replay, as
        when it runs alone. If a concurrent writer gets in first, the steps are decided
        again from what is stored now (a concurrent retry of the same unit then replays).
        ``keys``, the (actor, idempotency key) pairs the steps use, are looked up at once,
        and so is what ``commands`` (the command sent under each of ``keys``, None where
        there is none to look up) will look up, unless it is a replay.
        """
        outcomes = self._apply_unit(steps, keys, commands, refusals=())
        return [cast(CommandResult, outcome) for outcome in outcomes]

    def apply_each(
        self,
        steps: Sequence[Callable[[], CommandResult]],
        keys: Sequence[tuple[str, str]] = (),
        refusals: tuple[type[Exception], ...] = (errors.DomainError,),
        commands: Sequence[Command | None] = (),
    ) -> list[CommandResult | Exception]:
        """Apply each command on its own merits, in order, and save the applied ones in one
        transaction: a step that raises one of ``refusals`` is left out (its error takes
        its place in the outcomes) and the steps after it go on without it. Any other
        error stops the unit with ``StepFailed``; nothing is saved.

        One transaction instead of one per command: the same outcome as applying them one
        by one, at a fraction of the commits. ``keys`` and ``commands`` as for
        ``apply_together``.
        """
        return self._apply_unit(steps, keys, commands, refusals=refusals)

    def _apply_unit(
        self,
        steps: Sequence[Callable[[], CommandResult]],
        keys: Sequence[tuple[str, str]],
        commands: Sequence[Command | None],
        refusals: tuple[type[Exception], ...],
    ) -> list[CommandResult | Exception]:
        for _attempt in range(UNIT_ATTEMPTS):
            unit = UnitOfWork(self, cast(CommandJournal, self.recorder))
            unit.prefetch(keys, commands, self.load_many)
            outcomes: list[CommandResult | Exception] = []
            with unit.active():
                for index, step in enumerate(steps):
                    unit.begin(index)
                    try:
                        outcomes.append(step())
                    except refusals as refused:
                        unit.discard()
                        outcomes.append(refused)
                    except Exception as error:
                        if unit.is_stale():
                            break
                        raise StepFailed(index, error) from error
            if len(outcomes) < len(steps) or (
                any(isinstance(o, Exception) for o in outcomes) and unit.is_stale()
            ):
                # Someone else (a concurrent resend of this very batch, say) used one of
                # the keys meanwhile: what was refused may be a replay. Decide again.
                continue
            if unit.is_empty:
                return outcomes
            try:
                recordings = self._store(unit.processing_event())
            except IntegrityError:
                continue
            positions = unit.positions([r.notification.id for r in recordings])
            return [
                replace(outcome, position=positions[index])
                if isinstance(outcome, CommandResult) and index in positions
                else outcome
                for index, outcome in enumerate(outcomes)
            ]
        raise errors.ConcurrentChange(
            "other commands kept changing these records while this batch was being applied; "
            "retry it"
        )
