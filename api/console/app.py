"""The web console as an application of its own, mounted at ``/`` inside the API's.

It has its own error pages (HTML in the reader's language, where the API answers
problem+json) and its routes stay out of the API's OpenAPI document. It takes every path
whose first segment is not the API's (``/api``, ``/health``, ``/metrics``, ``/docs``,
``/openapi.json`` …): those go on reaching the API's own routes, with their 404 and 405
problems, exactly as before the console existed.

Its pages and static files go gzipped to a browser that accepts it (field sites have slow
links: the overview's 230 KB of HTML and inline charts travel as about 40 KB); the API's
answers are left as they were. Pages carry their CSRF token masked afresh each time, so
compression gives away nothing about it (``session.masked``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.datastructures import State
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match, Mount, Route
from starlette.types import Scope

from campledger.api.console import (
    duplicate_review,
    errors,
    home,
    language,
    password,
    person_forms,
    registration_upload,
    screening_forms,
    signing,
    site_management,
    transfer_forms,
    transfer_plan,
)
from campledger.api.console.assets import static_files
from campledger.api.console.context import ConsoleContext
from campledger.api.console.pages import PAGES, Navigation, Page
from campledger.api.console.security import ConsoleHeaders
from campledger.api.console.session import NotAllowed, check_csrf, load_session, signed_in
from campledger.api.settings import Settings

# Below this a compressed answer saves less than its headers cost.
GZIP_FROM_BYTES = 500
# zlib's own default: within a few percent of level 9's size in less time,
# which every page render pays.
GZIP_LEVEL = 6


def create_console(host: State, settings: Settings, pages: tuple[Page, ...] = PAGES) -> FastAPI:
    """The console, reaching the database through ``host`` (the API application's state,
    whose pool the API's lifespan opens)."""
    console = FastAPI(
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # Every route: who is signed in first, then the CSRF check of unsafe requests.
        dependencies=[Depends(load_session), Depends(check_csrf)],
    )
    console.state.console = ConsoleContext.from_settings(host, settings, Navigation(pages))
    errors.install(console)
    # Forms that write are guarded by their command's permission, not by a page's.
    for module in (
        signing,
        password,
        language,
        home,
        site_management,
        screening_forms,
        person_forms,
        duplicate_review,
        transfer_plan,
        transfer_forms,
        registration_upload,
    ):
        console.include_router(module.router)
    for page in pages:
        console.include_router(_guarded(page))
    console.mount("/static", static_files(), name="static")
    console.add_middleware(ConsoleHeaders)
    console.add_middleware(GZipMiddleware, minimum_size=GZIP_FROM_BYTES, compresslevel=GZIP_LEVEL)
    return console


def _guarded(page: Page) -> APIRouter:
    """The page's routes behind the permission its menu entry shows it under."""

    def guard(request: Request) -> None:
        if not signed_in(request).account.principal.can(page.permission):
            raise NotAllowed()

    router = APIRouter(dependencies=[Depends(guard)])
    router.include_router(page.router)
    return router


class ConsoleMount(Mount):
    """A mount at ``/`` that leaves the API's paths to the API: every path whose first
    segment is one of the API's (read from its OpenAPI document and its own routes, once,
    at the first request) goes on to the API's routes and their problem answers."""

    def __init__(self, app: FastAPI, host: FastAPI) -> None:
        super().__init__("", app=app, name="console")
        self.host = host
        self._api_segments: frozenset[str] | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and _first_segment(scope["path"]) in self.api_segments:
            return Match.NONE, {}
        return super().matches(scope)

    @property
    def api_segments(self) -> frozenset[str]:
        if self._api_segments is None:
            paths = [*self.host.openapi()["paths"]]
            paths += [route.path for route in self.host.routes if isinstance(route, Route)]
            self._api_segments = frozenset(_first_segment(path) for path in paths) - {""}
        return self._api_segments


def mount_console(app: FastAPI, settings: Settings) -> None:
    """Mount the console after every route of the API."""
    app.router.routes.append(ConsoleMount(create_console(app.state, settings), app))


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]
