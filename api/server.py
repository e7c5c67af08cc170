"""The app factory uvicorn workers call when ``campledger serve --workers N`` (N > 1)."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from api.composition import Campledger
from api.database import settings_env
from api.settings import Settings
from domain.registry import Registry


def app_from_environment() -> FastAPI:
    """Each worker opens its own Registry; the serving process runs the projector."""
    settings = Settings()
    if not settings.database_url:
        raise RuntimeError("workers need CAMPLEDGER_DATABASE_URL (set by campledger serve)")
    registry = Registry(env=settings_env(settings, settings.database_url))
    camp = Campledger(settings=settings, database_url=settings.database_url, registry=registry)
    return create_app(camp, run_projector=False)
