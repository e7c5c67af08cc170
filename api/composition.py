"""The one place that builds campledger's parts from settings.

Everything else receives what it needs (a Registry, a Projector, a URL); nothing
else reads the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from api.database import database, library_env
from api.settings import Settings
from domain.registry import Registry
from projections.engine import Projector


@dataclass
class Campledger:
    settings: Settings
    database_url: str
    registry: Registry

    def projector(self) -> Projector:
        return Projector(self.database_url)


@contextmanager
def campledger(settings: Settings | None = None) -> Iterator[Campledger]:
    """Open the database (embedded unless a URL is configured) and the Registry on it."""
    settings = settings or Settings()
    with database(settings) as url:
        registry = Registry(env=library_env(url))
        try:
            yield Campledger(settings=settings, database_url=url, registry=registry)
        finally:
            registry.close()
