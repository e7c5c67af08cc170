"""What the reads answer with: a page of a list, and the server's health."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from campledger.projections.paging import CURSOR_PATTERN

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list. Every list pages alike: pass ``next_cursor`` back as the
    ``cursor`` query parameter (with the same filters) for the next page; it is null on
    the last page. Pages are keyset-ordered, so writes between two requests neither
    repeat nor skip an item that was there all along."""

    items: list[Item]
    next_cursor: str | None = Field(
        default=None,
        pattern=CURSOR_PATTERN,
        description="Opaque: the `cursor` of the next page; null on the last page.",
    )


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded", "busy", "unavailable"] = Field(
        description="ok; degraded (projector not running, or events set aside); busy (every "
        "pooled connection in use, the database answering); unavailable (no database)."
    )
    database: bool = Field(description="Whether the database answers.")
    pool: dict[str, int] = Field(description="Pooled connections: size, available, waiting.")
    head: int | None = None
    lag: dict[str, int] | None = Field(default=None, description="Positions behind, per model.")
    quarantined: dict[str, list[int]] | None = Field(
        default=None, description="Positions each read model set aside (`campledger quarantine`)."
    )
    projector_running: bool | None = None
    waiting_reads: int | None = Field(
        default=None, description="Reads of this API process waiting for a wait_for position."
    )
    checked_at: datetime


class LivePublic(BaseModel):
    status: Literal["alive"]
