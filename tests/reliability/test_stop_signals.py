"""Stopping ``campledger serve`` by any stop signal stops its embedded PostgreSQL too.

systemd, Docker and supervisors send SIGTERM; a closed terminal or SSH session sends
SIGHUP; Ctrl-C is SIGINT. A postgres left running after any of them keeps the data
directory's list of users stale, and the next start never stops its server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from campledger.api.database.embedded import embedded_server
from tests.reliability.support import campledger_executable, free_port

START_SECONDS = 60.0  # first start runs initdb; a few seconds on a quiet machine
STOP_SECONDS = 30.0


def postgres_processes_of(data_dir: Path) -> list[int]:
    """Pids of running postgres processes whose command line names ``data_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if args and args[0].endswith(b"postgres") and str(data_dir).encode() in b" ".join(args):
            found.append(int(entry.name))
    return found


def wait_until_ready(
    process: subprocess.Popen[bytes], port: int, log: Path, seconds: float = START_SECONDS
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"campledger serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"campledger serve was not ready in {seconds:.0f} s:\n{log.read_text()}")


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_stop_signal_stops_the_embedded_database(signum: signal.Signals, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPLEDGER_")}
    env.update(CAMPLEDGER_DATA_DIR=str(data_dir), CAMPLEDGER_LOG_LEVEL="WARNING")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [campledger_executable(), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the signal reaches serve alone, as `kill PID` would
        )
    try:
        wait_until_ready(process, port, log)
        assert postgres_processes_of(data_dir), "the embedded server runs while serving"

        process.send_signal(signum)
        status = process.wait(STOP_SECONDS)

        assert postgres_processes_of(data_dir) == [], log.read_text()
        assert status == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        # Never leave a server behind for the next test, even when this one failed.
        for pid in postgres_processes_of(data_dir):
            os.kill(pid, signal.SIGKILL)


def test_a_user_killed_outright_does_not_keep_the_embedded_database_running(
    tmp_path: Path,
) -> None:
    # SIGKILL runs no handler: the killed process stays on the library's list of users,
    # and without pruning every later run would leave the server up for it.
    dead = subprocess.Popen(["true"])
    dead.wait()
    with embedded_server(tmp_path):
        pass
    (tmp_path / "pgdata" / ".handle_pids.json").write_text(f"[{dead.pid}]")

    try:
        with embedded_server(tmp_path):
            assert postgres_processes_of(tmp_path)

        assert postgres_processes_of(tmp_path) == []
    finally:
        for pid in postgres_processes_of(tmp_path):
            os.kill(pid, signal.SIGKILL)
