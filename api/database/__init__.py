"""Where the database is, and how the eventsourcing library is told about it.

Tables: the Registry's events live in ``registry_events`` (the library names the table
after the application); the recorder adds ``registry_events_claims`` and
``registry_events_commands`` beside it (see ``api.database.recorder``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from campledger.api.database.embedded import embedded_server
from campledger.api.settings import Settings

__all__ = ["connection_info", "database", "describe_url", "library_env"]

RECORDER_TOPIC = "campledger.api.database.recorder:CampledgerRecorder"


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """Yield the URL of the configured server, or of the embedded one started for the block."""
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_server(settings.data_dir) as url:
        yield url


# The settings as declared, without reading the environment: for tests and benchmarks that
# build a Registry by hand. campledger itself always passes the settings it loaded.
DECLARED = Settings.model_construct()


def library_env(url: str, settings: Settings = DECLARED) -> dict[str, str]:
    """The eventsourcing environment for a server given as URL or as a libpq conninfo string,
    with the pool and timeouts the settings ask for.

    Accepts ``postgresql://user:pw@host:port/db``, the unix-socket form
    ``postgresql://postgres:@/postgres?host=/dir`` that the embedded server reports, and
    ``dbname=... host=...`` strings. The library reads its connect timeout as how long to
    wait for a connection from its pool, opening one included.
    """
    params = conninfo_to_dict(url)
    host = str(params.get("host") or "localhost")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        # The library insists on a password key even when the server trusts the socket.
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(settings.pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.pool_max_overflow),
        "POSTGRES_LOCK_TIMEOUT": str(settings.lock_timeout),
        "POSTGRES_CONNECT_TIMEOUT": str(settings.connect_timeout),
        "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
    }


def connection_info(url: str, settings: Settings) -> str:
    """The libpq conninfo string for connections of our own (the API's pool, the projector,
    commands): the server's URL with the settings' connect timeout, which wins over one
    written in the URL."""
    return make_conninfo(url, connect_timeout=str(settings.connect_timeout))


def describe_url(url: str) -> str:
    """The URL as a libpq conninfo string, with any password masked, fit for logs and screens."""
    params = conninfo_to_dict(url)
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo(**{k: str(v) for k, v in params.items()})
