"""How campledger's processes log: text or JSON lines on stderr, each line of an HTTP
request carrying that request's id, and never a person's data.

The request id lives in a context variable set by ``RequestId`` (api/http/request_id.py):
every log call made while the request is handled, in the event loop or in the thread a
synchronous endpoint runs in (the thread gets a copy of the context), reads it.

What keeps personal data out is the code's rule that a log call names kinds, counts,
positions, paths and error classes, never values; and, because an exception's message
may quote a value (a database error's DETAIL, a validation error's input), a logged
exception shows its class and where it was raised, never its message.
"""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final, Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("campledger_request_id", default=None)

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS: Final = ("asctime", "levelname", "name", "message")

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class RequestIdFilter(logging.Filter):
    """Adds the request id of the request being handled, if any, to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if request_id is not None:
            record.request_id = request_id
        return True


def exception_without_message(exc_info: Any) -> str:
    """The traceback's frames (file, line, function, source line) and the exception's
    class, for each exception in the chain; never a message, which may quote a value."""
    _, error, _ = exc_info
    blocks: list[str] = []
    seen: set[int] = set()
    while isinstance(error, BaseException) and id(error) not in seen:
        seen.add(id(error))
        frames = traceback.format_list(traceback.extract_tb(error.__traceback__))
        blocks.append(
            "Traceback (most recent call last):\n"
            + "".join(frames)
            + f"{type(error).__module__}.{type(error).__qualname__} (message withheld)"
        )
        error = error.__cause__ or error.__context__
    # The first cause first, as Python prints a chain.
    return "\n\nwhich led to:\n\n".join(reversed(blocks))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, defaults={"request_id": "-"})

    def formatException(self, ei: Any) -> str:
        return exception_without_message(ei)


class JsonLinesFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id when in a request,
    and any ``extra`` fields the call gave."""

    def __init__(self) -> None:
        super().__init__(
            list(JSON_FIELDS),
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def formatException(self, ei: Any) -> str:
        return exception_without_message(ei)


def configure_logging(
    level: str, log_format: LogFormat = "text", stream: TextIO | None = None
) -> logging.Handler:
    """Send every logger's records to stderr (or ``stream``) in the format asked for,
    replacing whatever handlers the root logger had; the handler, for tests."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    return handler
