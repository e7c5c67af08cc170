"""What every list endpoint shares: the cursor and limit it takes, the sites a scoped
caller's list is limited to, and the page it answers.

Every list pages the same way: ``cursor`` in (the previous page's ``next_cursor``) and
``limit``; ``items`` and ``next_cursor`` out (``api.schemas.Page``). A cursor outside the
pattern is refused by validation (422); one in it that no page handed out is 400
``bad-query``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Protocol

import psycopg
from fastapi import Query

from campledger.api.services.auth import Principal
from campledger.api.services.problems import bad_query
from campledger.api.services.scoping import within
from campledger.projections.paging import CURSOR_MAX_LENGTH, CURSOR_PATTERN, Page

Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        max_length=CURSOR_MAX_LENGTH,
        description="The previous page's `next_cursor`, unchanged (opaque); omit it for the "
        "first page. A cursor only resumes the list that handed it out.",
    ),
]
# Rosters and the duplicates list took `after` before every list paged one way.
FormerCursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        max_length=CURSOR_MAX_LENGTH,
        deprecated=True,
        description="The former name of `cursor`, still accepted.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]


def page_body(page: Page) -> dict[str, Any]:
    """A page as every list answers it."""
    return {"items": page.rows, "next_cursor": page.next_cursor}


class ScopedList(Protocol):
    """A read model's list, limited to some sites, a page at a time."""

    def __call__(
        self,
        conn: psycopg.Connection[Any],
        *,
        within: Sequence[str] | None,
        after: str | None,
        limit: int,
    ) -> Page: ...


def page_of(
    query: ScopedList,
    conn: psycopg.Connection[Any],
    principal: Principal,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of a list with no filter but the caller's sites."""
    with bad_query():
        page = query(conn, within=within(principal), after=cursor, limit=limit)
    return page_body(page)
