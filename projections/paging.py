"""One cursor scheme for every list: keyset pages and the opaque cursor between them.

Every list query of a read model orders its rows by a unique key, fetches one row more
than the page holds, and hands back the key of the page's last row as ``next_cursor``
(None on the last page). The cursor is that key as JSON, tagged with the list it belongs
to, in unpadded URL-safe base64: opaque to clients (they pass it back unchanged), safe in
a query string and a header, and refused as malformed if it was minted by another list
or tampered with. Keyset rather than offset: a page stays right while arrivals and
transfers are written between two requests, and costs the same on page 1,000 as on page 1.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson

# What a cursor looks like (published as the cursor parameter's pattern): the base64url
# alphabet, no padding. 1,024 characters hold any key we page by, with room to spare.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,1024}$"
CURSOR_MAX_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its rows, and the cursor of the next page (None: the last)."""

    rows: list[dict[str, Any]]
    next_cursor: str | None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


def _instant(value: Any) -> datetime:
    found = datetime.fromisoformat(_text(value))
    if found.tzinfo is None:
        raise ValueError("no time zone")
    return found


def _day(value: Any) -> date:
    return date.fromisoformat(_text(value))


def _uuid(value: Any) -> UUID:
    return UUID(_text(value))


# How each part of a key is read back from JSON; a list names its key's parts by these.
TEXT: Callable[[Any], Any] = _text
INTEGER: Callable[[Any], Any] = _integer
INSTANT: Callable[[Any], Any] = _instant
DAY: Callable[[Any], Any] = _day
ID: Callable[[Any], Any] = _uuid


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):  # datetimes too: isoformat keeps microseconds and offset
        return value.isoformat()
    return value


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
    """The cursor that resumes the list ``kind`` after the row whose key is ``key``."""
    raw = orjson.dumps([kind, *(_jsonable(part) for part in key)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, parts: Sequence[Callable[[Any], Any]]) -> tuple[Any, ...]:
    """The key a cursor of the list ``kind`` names; ValueError if it is not one."""
    try:
        if len(cursor) > CURSOR_MAX_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found = orjson.loads(raw)
        if not isinstance(found, list) or found[:1] != [kind] or len(found) != len(parts) + 1:
            raise ValueError("another list's cursor")
        return tuple(read(value) for read, value in zip(parts, found[1:], strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        # ValueError is what every query raises for malformed input (the API's bad-query).
        raise ValueError(
            f"invalid cursor: pass the next_cursor of the previous page of this {kind} list"
        ) from None


def page_of(
    kind: str,
    rows: list[dict[str, Any]],
    limit: int,
    key: Callable[[dict[str, Any]], Sequence[Any]],
) -> Page:
    """A page from rows fetched with ``LIMIT limit + 1``: the extra row, if any, only says
    that another page follows; ``key`` gives the ordering key of a row."""
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor(kind, key(rows[-1])))


def check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError("limit must be at least 1")
