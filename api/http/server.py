"""The app factory uvicorn workers call when ``campledger serve --workers N`` (N > 1)."""

from __future__ import annotations

from fastapi import FastAPI

from campledger.api.composition import compose
from campledger.api.http.app import create_app
from campledger.api.http.logs import configure_logging
from campledger.api.settings import Settings


def app_from_environment() -> FastAPI:
    """Each worker opens its own Registry; the serving process runs the projector."""
    settings = Settings()
    # A worker starts with logging unconfigured: it logs as the serving process does.
    configure_logging(settings.log_level, settings.log_format)
    if not settings.database_url:
        raise RuntimeError("workers need CAMPLEDGER_DATABASE_URL (set by campledger serve)")
    return create_app(compose(settings, settings.database_url), run_projector=False)
