"""A request id for every HTTP request: the client's ``X-Request-ID`` when it is a
plausible id, otherwise a new one; echoed in the answer and carried by every log line
written while the request is handled (api/http/logs.py)."""

from __future__ import annotations

import re
import uuid
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from campledger.api.http.asgi import HttpMiddleware
from campledger.api.http.logs import REQUEST_ID

HEADER: Final = "X-Request-ID"
# What proxies and tracing systems send (UUIDs, hex, "Root=1-…;Parent=…"), and nothing a
# log reader's terminal or a JSON line could be fooled by: no spaces, quotes or controls.
VALID: Final = re.compile(r"[A-Za-z0-9._:;=+/-]{1,128}")
_HEADER_KEY: Final = HEADER.lower().encode()


def incoming_or_new(scope: Scope) -> str:
    for key, value in scope.get("headers") or ():
        if key == _HEADER_KEY:
            text: str = value.decode("latin-1")
            if VALID.fullmatch(text):
                return text
            break  # not an id we can use: a new one, rather than echoing it
    return uuid.uuid4().hex


class RequestId(HttpMiddleware):
    """Outside every other middleware, so that the error page of an unexpected exception
    carries the id too."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = incoming_or_new(scope)
        # Not reset afterwards: the server runs each request in a task of its own, whose
        # context ends with it, and its log line about an exception that escaped the app
        # (written after the app returns, in the same task) should carry the id too.
        REQUEST_ID.set(request_id)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(HEADER, request_id)
            await send(message)

        await self.app(scope, receive, sending)
