"""Worker processes for an import, each with its own Registry.

The command path is pure Python, so a second process is what lets a second core (and the
database's own time) work in parallel: the workers check chunks of rows while the file
is read, then register batches.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from campledger.api.database.keystore import MASTER_KEY_FILE_ENV, install_key_store
from campledger.api.services.import_checked import CheckedRows, RawRow
from campledger.api.services.import_file import ChunkCheck
from campledger.domain.service.registry import Registry

T = TypeVar("T")

# This worker process's Registry (None in the process that imports).
_registry: Registry | None = None


def _start(env: dict[str, str]) -> None:
    global _registry
    # A fresh process: the key store is installed here from the file the parent uses.
    if MASTER_KEY_FILE_ENV in env:
        install_key_store(Path(env[MASTER_KEY_FILE_ENV]))
    # The parent's Registry created the tables; concurrent CREATE TABLE IF NOT EXISTS
    # statements from several workers would clash in the catalog.
    _registry = Registry(env={**env, "CREATE_TABLE": "false"})


def _ready() -> bool:
    return _registry is not None


def _with_registry(task: Callable[..., T], *args: Any) -> T:
    assert _registry is not None, "worker not started"
    return task(_registry, *args)


class Workers:
    """Worker processes, each with its own Registry, and whether they have started yet."""

    def __init__(self, executor: ProcessPoolExecutor, count: int) -> None:
        self.executor = executor
        self.count = count
        self.warming: list[Future[bool]] = []
        # Spawning is lazy: ask every worker for something so that all of them start now.
        # From a thread: the first submit waits for the fork server to import its
        # modules, which this process can spend checking rows instead.
        self._starter = threading.Thread(target=self._start, name="import-workers", daemon=True)
        self._starter.start()

    def _start(self) -> None:
        self.warming = [self.executor.submit(_ready) for _ in range(self.count)]

    def ready(self) -> bool:
        return not self._starter.is_alive() and all(f.done() for f in self.warming)

    def started(self) -> ProcessPoolExecutor:
        """The executor, once the workers have been asked to start."""
        self._starter.join()
        return self.executor

    def submit(self, task: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``task(registry, *args)`` in a worker, with that worker's Registry."""
        return self.started().submit(_with_registry, task, *args)

    def map_chunks(self, check: ChunkCheck, chunks: list[list[RawRow]]) -> list[CheckedRows]:
        """Check chunks of rows, results in order. This process checks a chunk itself
        whenever the workers are still starting or already have two chunks each to do,
        so that no core waits for another."""
        results: list[CheckedRows | None] = [None] * len(chunks)
        queued: dict[Future[CheckedRows], int] = {}
        for index, chunk in enumerate(chunks):
            busy = sum(1 for f in queued if not f.done())
            if self.ready() and busy < 2 * self.count:
                queued[self.executor.submit(check, chunk)] = index
            else:
                results[index] = check(chunk)
        for future, index in queued.items():
            results[index] = future.result()
        return [r for r in results if r is not None]


@contextmanager
def worker_pool(workers: int, env: dict[str, str], preload: Sequence[str]) -> Iterator[Workers]:
    """``workers`` processes, each building a Registry from the library environment
    ``env``; ``preload`` names the modules their tasks need, imported once for all."""
    # Not forked from this process: a child would share its open database connections
    # and could close them under it. A fork server starts clean, imports the modules
    # once, and forks each worker from there, which costs a fraction of a fresh spawn.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, *preload])
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start,
        initargs=(env,),
    )
    pool = Workers(executor, workers)
    try:
        yield pool
    finally:
        pool.started().shutdown(wait=True, cancel_futures=True)
