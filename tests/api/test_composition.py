"""Each database setting reaches what it configures, whichever way campledger starts:
``campledger serve`` with one worker, with several (each worker builds its app in
``api.server``), and every other command."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from campledger.api import composition
from campledger.api.cli import serve
from campledger.api.cli.main import app as cli
from campledger.api.cli.shared import load_settings
from campledger.api.composition import Backend, connection, open_backend
from campledger.api.database import DECLARED
from campledger.domain.service.registry import Registry
from tests.probes import connect_timeout_of, lock_timeout_of_writes, recorder_of

# Values unlike the declared defaults (5, 10, 10, 10), and unlike each other, so that a
# setting dropped on the way, or one read in place of another, shows.
POOL_SIZE, POOL_MAX_OVERFLOW, LOCK_TIMEOUT, CONNECT_TIMEOUT = 3, 4, 17, 13


@pytest.fixture
def configured(api_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (DECLARED.pool_size, DECLARED.pool_max_overflow) != (POOL_SIZE, POOL_MAX_OVERFLOW)
    assert DECLARED.lock_timeout != LOCK_TIMEOUT and DECLARED.connect_timeout != CONNECT_TIMEOUT
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", api_database_url)
    monkeypatch.setenv("CAMPLEDGER_POOL_SIZE", str(POOL_SIZE))
    monkeypatch.setenv("CAMPLEDGER_POOL_MAX_OVERFLOW", str(POOL_MAX_OVERFLOW))
    monkeypatch.setenv("CAMPLEDGER_LOCK_TIMEOUT", str(LOCK_TIMEOUT))
    monkeypatch.setenv("CAMPLEDGER_CONNECT_TIMEOUT", str(CONNECT_TIMEOUT))


def assert_registry_configured(registry: Registry) -> None:
    pool = recorder_of(registry).datastore.pool
    # CAMPLEDGER_POOL_SIZE: connections kept; with the overflow, the most it opens.
    assert (pool.min_size, pool.max_size) == (POOL_SIZE, POOL_SIZE + POOL_MAX_OVERFLOW)
    # CAMPLEDGER_LOCK_TIMEOUT: what PostgreSQL applies while a command waits for the lock.
    assert lock_timeout_of_writes(registry) == f"{LOCK_TIMEOUT}s"
    # CAMPLEDGER_CONNECT_TIMEOUT: the library's wait for a connection, opening one included.
    assert pool.timeout == CONNECT_TIMEOUT


@dataclass
class Served:
    """What ``campledger serve`` built, seen while its app was serving."""

    api_pool_max: int
    api_connect_timeout: str | None
    projector_conninfo: str


def serve_and_look(workers: int, monkeypatch: pytest.MonkeyPatch) -> Served:
    """Run ``campledger serve`` with uvicorn and the projector's process replaced by
    stand-ins that start the app as they would, look, and return."""
    seen: dict[str, Any] = {}

    def run(app: FastAPI | str, *, factory: bool = False, **_: Any) -> None:
        if isinstance(app, str):  # each uvicorn worker imports the factory and calls it
            assert factory and workers > 1
            module, _, name = app.partition(":")
            app = getattr(importlib.import_module(module), name)()
        assert isinstance(app, FastAPI)
        backend: Backend = app.state.backend
        try:
            with TestClient(app):
                pool = app.state.pool
                with pool.connection() as conn:
                    seen["api"] = (pool.max_size, connect_timeout_of(conn))
                assert_registry_configured(backend.registry)
        finally:
            if workers > 1:  # the worker's own Registry; serve closes the one it opened
                backend.registry.close()

    @contextmanager
    def projector_process(
        conninfo: str, log_level: str, log_format: str, master_key_file: Path,
        rebuild_processes: int,
    ) -> Iterator[None]:  # fmt: skip
        seen["projector"] = conninfo
        assert master_key_file.is_file()
        assert rebuild_processes == DECLARED.rebuild_processes
        yield

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(serve, "projector_process", projector_process)
    result = CliRunner().invoke(cli, ["serve", "--workers", str(workers)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return Served(*seen["api"], projector_conninfo=seen["projector"])


def assert_served_configured(served: Served) -> None:
    # The API's reads may hold as many connections as the Registry's pool may open.
    assert served.api_pool_max == POOL_SIZE + POOL_MAX_OVERFLOW
    assert served.api_connect_timeout == str(CONNECT_TIMEOUT)
    assert conninfo_to_dict(served.projector_conninfo).get("connect_timeout") == str(
        CONNECT_TIMEOUT
    )


@pytest.mark.usefixtures("configured")
def test_serve_with_one_worker_takes_pools_and_timeouts_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert_served_configured(serve_and_look(1, monkeypatch))


@pytest.mark.usefixtures("configured")
def test_serve_with_several_workers_takes_pools_and_timeouts_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert_served_configured(serve_and_look(2, monkeypatch))


@pytest.mark.usefixtures("configured")
def test_commands_take_pools_and_timeouts_from_the_settings() -> None:
    settings = load_settings()
    with open_backend(settings) as backend, backend.projector() as projector:
        assert_registry_configured(backend.registry)
        assert connect_timeout_of(projector.conn) == str(CONNECT_TIMEOUT)
        # Processes that open a Registry of their own (import workers) get the same.
        worker = Registry(env=backend.library_env)
        try:
            assert_registry_configured(worker)
        finally:
            worker.close()
    with connection(settings) as conn:  # commands that need no Registry (token)
        assert connect_timeout_of(conn) == str(CONNECT_TIMEOUT)


def test_a_projector_rebuilds_in_the_processes_the_settings_say_each_with_the_master_key(
    api_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DECLARED.rebuild_processes != 3
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", api_database_url)
    monkeypatch.setenv("CAMPLEDGER_REBUILD_PROCESSES", "3")
    with open_backend(load_settings()) as backend, backend.projector() as projector:
        assert projector.rebuild_processes == 3
        # A helper process loads the very master key this process loaded.
        setup = projector.process_setup
        assert isinstance(setup, partial) and setup.args == (backend.master_key_file,)


def test_start_up_is_taken_out_of_the_collectors_way_once_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(composition, "_started", False)
    collected: list[int] = []
    monkeypatch.setattr(composition.gc, "collect", lambda: collected.append(1) or 0)
    composition.settle_start_up()
    composition.settle_start_up()  # the projector's start, say, after the server's
    assert gc.get_freeze_count() > 0
    assert collected == [1]
