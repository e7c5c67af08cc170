"""Headers every response carries: no caching of what we answer, no content sniffing.

- ``X-Content-Type-Options: nosniff`` on every response: a browser must not run a roster
  CSV or an error body as a script or a page because its bytes look like one.
- ``Cache-Control: no-store`` on every response that does not set its own: most answers
  carry personal data (names, dates of birth) or data scoped to the caller's token, and a
  shared laptop's browser cache or a proxy on a field site's uplink must keep none of it.
  One rule for all rather than a list of the routes with personal data, which a new
  route would fall out of; a route whose answer is public and worth caching (vendored
  static files, say) says so with its own ``Cache-Control``.

Plain ASGI, like all our middleware (``api/http/asgi.py`` says why).
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from campledger.api.http.asgi import HttpMiddleware

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders(HttpMiddleware):
    """Add ``nosniff`` to every HTTP response, and ``no-store`` unless it sets a policy."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == NO_STORE[0] for name, _ in headers):
                    headers.append(NO_STORE)
                headers.append(NOSNIFF)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)
