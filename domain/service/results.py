"""What a command answers, alone or in a unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command did: its result fields and the log position of its last event.

    ``replayed`` is true when the idempotency key had been seen and nothing was written.
    """

    result: dict[str, Any]
    position: int
    replayed: bool = False
