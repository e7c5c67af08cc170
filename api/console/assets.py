"""The console's own files (stylesheet, vendored htmx), served by campledger itself.

Field sites have slow links or none: nothing comes from a CDN. Each link carries a digest
of the file's content (``?v=``), so a browser may keep the file for a year and still
fetches a new one the day it changes. They go gzipped, as the pages do (``app.py``).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).with_name("static")
CACHE_FOR_A_YEAR = "public, max-age=31536000, immutable"


@functools.cache
def _digest(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={_digest(name)}"


class VersionedStatic(StaticFiles):
    """Static files with a long cache lifetime (the API's answers are ``no-store``)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = CACHE_FOR_A_YEAR
        return response


def static_files() -> VersionedStatic:
    return VersionedStatic(directory=STATIC_DIR)
