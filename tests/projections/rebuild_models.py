"""Read models for the tests of a rebuild in several processes. They live apart from the
test modules so that a helper process can import them without the tests' fixtures (which
would make a master key of their own)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from campledger.projections.readmodel import Envelope, Fold, ReadModel


class WhoFilled(ReadModel):
    """Records the process that applied each batch: shows which process filled it."""

    name = "who_filled"
    ddl = ("CREATE TABLE IF NOT EXISTS {schema}.fillers (pid integer PRIMARY KEY)",)

    def apply(self, cur: Cursor[Any], batch: Sequence[Envelope]) -> None:
        self.run(
            cur, "INSERT INTO {schema}.fillers VALUES (%s) ON CONFLICT DO NOTHING", (os.getpid(),)
        )


class BrokenFold(ReadModel):
    """A model whose rebuild fails outright, as a bug in a fold would."""

    name = "broken_fold"
    ddl = ("CREATE TABLE IF NOT EXISTS {schema}.rows (n integer)",)

    def fold(self) -> Fold | None:
        raise RuntimeError("this fold cannot start")
