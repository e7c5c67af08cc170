"""Headers on every console answer that a browser needs to protect the page.

- ``Content-Security-Policy``: scripts, styles and images from campledger only, no inline
  script, no framing, forms posted only back to campledger. The vendored htmx is told
  not to inject its indicator styles or to evaluate code (``htmx-config`` in the layout).
- ``X-Frame-Options: DENY`` for browsers older than ``frame-ancestors``.
- ``Referrer-Policy: same-origin``: a roster's address (with its filters) never reaches
  another site.

``nosniff`` and ``Cache-Control: no-store`` come from the API application around the
console (``api/http/headers.py``); static files set their own cache lifetime.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from campledger.api.http.asgi import HttpMiddleware

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = (
    (b"content-security-policy", POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class ConsoleHeaders(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *HEADERS]
            await send(message)

        await self.app(scope, receive, sending)
