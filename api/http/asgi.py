"""What the API's own middleware shares: plain ASGI, acting on HTTP requests only.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: that one runs each request in
an extra task with its own streams, which cost more than everything else our middleware
does (the API's benchmark pays for it).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    """Middleware for HTTP requests; lifespan events and anything else pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        raise NotImplementedError
