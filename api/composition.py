"""The one place that builds campledger's parts from settings.

Every way in starts here: ``campledger serve`` with one worker or many (``api.server``),
every command of the command line, and the projector, beside the API or on its own.
Each setting reaches what it configures from here:

- ``pool_size`` and ``pool_max_overflow``: the Registry's pool (the library keeps
  ``pool_size`` connections and opens up to ``pool_max_overflow`` more at a peak), and the
  API's own pool, which may hold as many in all;
- ``lock_timeout``: how long the Registry waits for the event table's insert lock;
- ``connect_timeout``: how long the Registry waits for a pooled connection, and the libpq
  connect timeout of every connection of our own (the API's pool, the projector, commands);
- ``rebuild_processes``: how many processes fill a rebuild's fresh schemas.

Everything else receives what it needs (a Registry, a Projector, a conninfo string);
nothing else reads the environment.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import psycopg

from campledger.api.database import connection_info, database, library_env
from campledger.api.database.keystore import (
    MASTER_KEY_FILE_ENV,
    PostgresKeyRing,
    install_key_store,
    master_key_file,
)
from campledger.api.settings import Settings
from campledger.domain.service.registry import Registry
from campledger.projections.engine import Observer, Projector


@dataclass
class Backend:
    """The Registry on a running database, and how the rest of campledger reaches that
    database under the same settings."""

    settings: Settings
    database_url: str
    registry: Registry
    # For processes of our own (the projector beside the API) to load the same key;
    # None: where the settings say (a Backend put together by hand, in tests).
    given_master_key_file: Path | None = None

    @property
    def master_key_file(self) -> Path:
        return self.given_master_key_file or master_key_file(self.settings)

    @cached_property
    def conninfo(self) -> str:
        """For every connection campledger opens itself (not the Registry's). Worked out
        once: parsing the URL cost each request that sends a command 50 µs."""
        return connection_info(self.database_url, self.settings)

    @property
    def library_env(self) -> dict[str, str]:
        """The Registry's environment, for processes that open a Registry of their own;
        with the master key's file, which such a process installs (``worker_key_store``)."""
        env = library_env(self.database_url, self.settings)
        return {**env, MASTER_KEY_FILE_ENV: str(self.master_key_file)}

    @property
    def api_pool_size(self) -> int:
        """At most as many connections for the API's reads as the Registry's pool may open."""
        return self.settings.pool_size + self.settings.pool_max_overflow

    def projector(self, kind: type[Projector] = Projector) -> Projector:
        return projector_on(
            self.conninfo, self.master_key_file, self.settings.rebuild_processes, kind
        )


def projector_on(
    conninfo: str,
    master_key_file: Path,
    rebuild_processes: int,
    kind: type[Projector] = Projector,
    observer: Observer | None = None,
) -> Projector:
    """A projector on this database (``kind``: one that logs, for instance); a rebuild
    fills its fresh schemas in ``rebuild_processes`` processes, each of which loads the
    same master key. For the projector's own process too, which has no Backend."""
    return kind(
        conninfo,
        observer=observer,
        rebuild_processes=rebuild_processes,
        process_setup=partial(install_key_store, master_key_file),
    )


def compose(settings: Settings, database_url: str) -> Backend:
    """campledger's parts on the database at this URL, configured by these settings.

    Refuses to start (``KeyStoreError``) when the master key is missing or does not open
    the database's key store: nothing would be readable, and nothing should be written.
    """
    key_file = master_key_file(settings)
    master = install_key_store(key_file)
    key_ring = PostgresKeyRing(connection_info(database_url, settings), master)
    registry = Registry(env=library_env(database_url, settings), key_ring=key_ring)
    return Backend(
        settings=settings,
        database_url=database_url,
        registry=registry,
        given_master_key_file=key_file,
    )


@contextmanager
def open_backend(settings: Settings | None = None) -> Iterator[Backend]:
    """Open the database (embedded unless a URL is configured) and the Registry on it."""
    settings = settings or Settings()
    with database(settings) as url:
        backend = compose(settings, url)
        try:
            yield backend
        finally:
            backend.registry.close()


@contextmanager
def connection(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """One connection to the configured database, for commands that need no Registry."""
    with (
        database(settings) as url,
        psycopg.connect(connection_info(url, settings), autocommit=True) as conn,
    ):
        yield conn


_started = False


def settle_start_up() -> None:
    """Take what a process made to start — modules, routes, schemas, pools — out of the
    garbage collector's way, once per process.

    It lives as long as the process, yet every full collection walked it again: a sync
    batch of 1,000 commands set one off about once a request, and 0.15 s of each request
    went on collecting, against 0.025 s once start-up was frozen (docs/performance.md,
    "Offline sync"). Objects freed later are still freed by their reference counts.
    """
    global _started  # one slot per process: the server's lifespan or the projector's start
    if _started:
        return
    _started = True
    gc.collect()
    gc.freeze()
