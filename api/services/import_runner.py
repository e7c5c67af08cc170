"""Importing a checked arrivals file: batches through ``Registry.register_arrivals``.

Each batch (up to 1,000 arrivals) is one command, so one transaction: all of it or none.

Running the same file again never registers anyone twice, and an interrupted import
resumes where it stopped:

- before anything is written, every registration number and biometric reference of the
  file is looked up among the values already claimed. A value held by a person that an
  earlier run of this same file registered (same actor, same site) marks its row as
  already imported: it is left out. A value held by anyone else makes the row bad, and
  it is reported by line like any other bad row, instead of refusing a batch halfway;
- each batch's idempotency key is derived from the file's content hash and the lines
  the batch holds, so two runs racing on the same file (or a retry after an answer was
  lost) replay each other's batches rather than clash.

Batches can run in worker processes, each with its own Registry: the command path is
pure Python, so a second process is what lets a second core (and the database's own
time) work in parallel.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Identifier

from campledger.api.database.recorder import CampledgerRecorder
from campledger.api.services.import_rows import (
    CheckedFile,
    ChunkCheck,
    ChunkResult,
    Fields,
    RawRow,
    RowProblem,
    read_arrivals,
    to_arrival,
)
from campledger.domain.commands import MAX_BATCH, RegisterArrivals
from campledger.domain.model import errors
from campledger.domain.service.claims import BIOMETRIC_REFERENCE, REGISTRATION_NUMBER
from campledger.domain.service.registry import Registry

COMMAND = "register_arrivals"

# What a refused batch item's code says about which column was at fault.
_COLUMN_OF_CODE = {
    "duplicate-registration-number": "registration_number",
    "duplicate-biometric-reference": "biometric_reference",
    "person-already-registered": "person_id",
    "invalid-nationality": "nationality",
    "invalid-sex": "sex",
    "invalid-age": "date_of_birth",
    "invalid-occurred-at": "occurred_at",
    "occurred-in-future": "occurred_at",
}

Progress = Callable[[int], None]


@dataclass
class BatchOutcome:
    index: int
    first_line: int
    last_line: int
    size: int
    # planned (dry run) | imported | replayed (by a concurrent run) | refused
    status: str
    position: int | None = None
    problems: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "size": self.size,
            "status": self.status,
            "position": self.position,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class ImportReport:
    """What an import found and did; ``ok`` says whether it did all it was asked."""

    site_code: str
    digest: str
    rows: int
    dry_run: bool
    skip_bad_rows: bool
    problems: list[RowProblem] = field(default_factory=list)
    batches: list[BatchOutcome] = field(default_factory=list)
    # Good rows left out because an earlier run of this file imported them.
    already_imported: int = 0
    # Good rows to be imported in batches.
    to_import: int = 0
    seconds: float = 0.0

    def count(self, *statuses: str) -> int:
        return sum(b.size for b in self.batches if b.status in statuses)

    @property
    def imported(self) -> int:
        return self.count("imported")

    @property
    def replayed(self) -> int:
        return self.count("replayed")

    @property
    def refused(self) -> int:
        return self.count("refused")

    @property
    def bad_rows(self) -> int:
        return len({p.line for p in self.problems})

    @property
    def position(self) -> int | None:
        found = [b.position for b in self.batches if b.position is not None]
        return max(found) if found else None

    @property
    def ok(self) -> bool:
        if self.refused:
            return False
        return self.skip_bad_rows or not self.problems

    def all_problems(self) -> list[RowProblem]:
        found = [*self.problems, *(p for b in self.batches for p in b.problems)]
        return sorted(found, key=lambda p: p.line)

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_code": self.site_code,
            "sha256": self.digest,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "skip_bad_rows": self.skip_bad_rows,
            "ok": self.ok,
            "imported": self.imported,
            "replayed": self.replayed,
            "already_imported": self.already_imported,
            "to_import": self.to_import,
            "refused": self.refused,
            "bad_rows": self.bad_rows,
            "position": self.position,
            "seconds": round(self.seconds, 3),
            "problems": [p.as_dict() for p in self.all_problems()],
            "batches": [b.as_dict() for b in self.batches],
        }


@dataclass
class _Batch:
    index: int
    key: str
    lines: list[int]
    fields: list[Fields]


def key_prefix(digest: str, site_code: str) -> str:
    """What every batch key of one file imported at one site starts with."""
    return f"import:{site_code}:{digest[:32]}:"


def batch_key(digest: str, site_code: str, lines: Sequence[int]) -> str:
    """The idempotency key of the batch holding these lines of this file."""
    held = hashlib.sha256(",".join(map(str, lines)).encode()).hexdigest()
    return f"{key_prefix(digest, site_code)}{held[:32]}"


def import_arrivals(
    registry: Registry,
    content: bytes,
    *,
    site_code: str,
    actor: str,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    batch_size: int = MAX_BATCH,
    workers: int = 1,
    worker_env: dict[str, str] | None = None,
    on_checked: Callable[[ImportReport], None] | None = None,
    on_progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Check a whole arrivals CSV, then (unless told not to, or a row is bad) import it.

    Raises ``ImportFileError`` for an unreadable file and the Registry's own errors for
    an unknown or closed site; every row-level problem goes into the report instead.
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise errors.InvalidInput(f"the batch size must be between 1 and {MAX_BATCH}")
    if workers > 1 and worker_env is None:
        raise ValueError("worker processes need the library environment to build a Registry")
    started = time.perf_counter()
    # Worker processes take a second or so to start: worth it only for a few batches each.
    parallel = workers > 1 and not dry_run and content.count(b"\n") > 2 * workers * batch_size
    with ExitStack() as stack:
        pool = None
        if parallel:
            # Started first: the workers import and connect while the file is checked.
            pool = stack.enter_context(_worker_pool(workers, worker_env or {}))
        registry.get_open_site(site_code)
        # With workers, they check the rows too: they would otherwise sit idle until then.
        mapper = pool.map_chunks if pool is not None else None
        checked = read_arrivals(content, now=now or registry.clock(), map_chunks=mapper)
        report = ImportReport(
            site_code=site_code,
            digest=checked.digest,
            rows=checked.rows,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
        )
        batches = _plan(registry, checked, report, actor=actor, batch_size=batch_size)
        if on_checked is not None:
            on_checked(report)
        if report.problems and not skip_bad_rows:
            report.seconds = time.perf_counter() - started
            return report
        if dry_run:
            report.batches = [_outcome(b, "planned") for b in batches]
        elif pool is not None:
            report.batches = _run_in_workers(pool.started(), batches, site_code, actor, on_progress)
        else:
            report.batches = [
                _run_batch(registry, b, site_code, actor, on_progress) for b in batches
            ]
        report.batches.sort(key=lambda b: b.index)
    report.seconds = time.perf_counter() - started
    return report


# --- planning ----------------------------------------------------------------------------


def _plan(
    registry: Registry, checked: CheckedFile, report: ImportReport, *, actor: str, batch_size: int
) -> list[_Batch]:
    recorder = registry.recorder
    if not isinstance(recorder, CampledgerRecorder):
        raise TypeError("imports need the PostgreSQL recorder (claims are looked up in bulk)")
    report.problems = list(checked.problems)
    good = checked.good
    owners = {
        scope: _claims(recorder, scope, [f[position] for _, f in good if f[position] is not None])
        for scope, position in _UNIQUE_FIELDS
    }
    if any(owners.values()):
        prefix = key_prefix(checked.digest, report.site_code)
        ours = _registered_by_this_file(recorder, actor, prefix)
        taken, done = _sort_claimed(good, owners, ours)
        report.problems.extend(taken)
        report.problems.sort(key=lambda p: p.line)
        report.already_imported = len(done)
        left_out = done | {p.line for p in taken}
        good = [g for g in good if g[0] not in left_out]
    report.to_import = len(good)
    batches = []
    for index, start in enumerate(range(0, len(good), batch_size)):
        chunk = good[start : start + batch_size]
        lines = [line for line, _ in chunk]
        key = batch_key(checked.digest, report.site_code, lines)
        batches.append(_Batch(index, key, lines, [fields for _, fields in chunk]))
    return batches


_UNIQUE_FIELDS = ((REGISTRATION_NUMBER, 0), (BIOMETRIC_REFERENCE, 9))


def _sort_claimed(
    good: list[tuple[int, Fields]], owners: dict[str, dict[str, UUID]], ours: set[UUID]
) -> tuple[list[RowProblem], set[int]]:
    """Rows whose unique values are already held: by this file's earlier runs (done), or
    by someone else (a problem, named by column)."""
    problems: list[RowProblem] = []
    done: set[int] = set()
    for line, fields in good:
        held = [
            (scope, owner)
            for scope, position in _UNIQUE_FIELDS
            if fields[position] is not None
            and (owner := owners[scope].get(fields[position])) is not None
        ]
        if not held:
            continue
        if len({o for _, o in held}) == 1 and held[0][1] in ours:
            done.add(line)
            continue
        for scope, owner in held:
            if owner not in ours:
                problems.append(
                    RowProblem(
                        line,
                        scope,
                        f"duplicate-{scope.replace('_', '-')}",
                        f"this {scope} is already registered, and not by an earlier run of "
                        "this file by the same actor",
                    )
                )
    return problems, done


def _registered_by_this_file(recorder: CampledgerRecorder, actor: str, prefix: str) -> set[UUID]:
    """The persons that earlier runs of this file, by this actor, registered."""
    query = SQL(
        "SELECT result FROM {}.{} WHERE actor = %s AND starts_with(key, %s) AND command = %s"
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.commands_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
        rows = cur.execute(query, (actor, prefix, COMMAND)).fetchall()
    return {UUID(p) for row in rows for p in row["result"].get("person_ids", ())}


def _claims(recorder: CampledgerRecorder, scope: str, values: list[str]) -> dict[str, UUID]:
    """Which of these values are held, and by whom: one query for the whole file."""
    if not values:
        return {}
    query = SQL("SELECT value, owner_id FROM {}.{} WHERE scope = %s AND value = ANY(%b)").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.claims_table_name)
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
        rows = cur.execute(query, (scope, values)).fetchall()
    return {r["value"]: r["owner_id"] for r in rows}


# --- running -----------------------------------------------------------------------------


def _outcome(batch: _Batch, status: str, **kwargs: Any) -> BatchOutcome:
    return BatchOutcome(
        index=batch.index,
        first_line=batch.lines[0],
        last_line=batch.lines[-1],
        size=len(batch.lines),
        status=status,
        **kwargs,
    )


def _run_batch(
    registry: Registry, batch: _Batch, site_code: str, actor: str, on_progress: Progress | None
) -> BatchOutcome:
    verdict = _register(registry, site_code, actor, batch.key, batch.fields)
    outcome = _settle(batch, verdict)
    if on_progress is not None:
        on_progress(outcome.size)
    return outcome


def _register(
    registry: Registry, site_code: str, actor: str, key: str, rows: list[Fields]
) -> tuple[Any, ...]:
    """One batch through the Registry; the verdict is plain data, fit to cross processes."""
    try:
        command = RegisterArrivals(site_code=site_code, arrivals=[to_arrival(f) for f in rows])
        result = registry.handle(command, actor=actor, idempotency_key=key)
    except errors.BatchRejected as error:
        items = [
            {"index": i["index"], "code": i["code"], "message": i["message"]}
            for i in error.details.get("items", ())
        ]
        return ("refused", items)
    except errors.DomainError as error:
        return ("failed", error.code, error.message)
    return ("ok", result.position, result.replayed)


def _settle(batch: _Batch, verdict: tuple[Any, ...]) -> BatchOutcome:
    if verdict[0] == "ok":
        _, position, replayed = verdict
        return _outcome(batch, "replayed" if replayed else "imported", position=position)
    if verdict[0] == "refused":
        problems = [
            RowProblem(
                batch.lines[item["index"]],
                _COLUMN_OF_CODE.get(item["code"], "*"),
                item["code"],
                item["message"],
            )
            for item in verdict[1]
        ]
    else:
        problems = [RowProblem(batch.lines[0], "*", verdict[1], verdict[2])]
    return _outcome(batch, "refused", problems=problems)


_worker: Registry | None = None


def _start_worker(env: dict[str, str]) -> None:
    global _worker
    # The parent's Registry created the tables; concurrent CREATE TABLE IF NOT EXISTS
    # statements from several workers would clash in the catalog.
    _worker = Registry(env={**env, "CREATE_TABLE": "false"})


def _ready() -> bool:
    return _worker is not None


def _register_in_worker(
    site_code: str, actor: str, key: str, rows: list[Fields]
) -> tuple[Any, ...]:
    assert _worker is not None, "worker not started"
    return _register(_worker, site_code, actor, key, rows)


class _Workers:
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

    def map_chunks(self, check: ChunkCheck, chunks: list[list[RawRow]]) -> list[ChunkResult]:
        """Check chunks of rows, results in order. This process checks a chunk itself
        whenever the workers are still starting or already have two chunks each to do,
        so that no core waits for another."""
        results: list[ChunkResult | None] = [None] * len(chunks)
        queued: dict[Future[ChunkResult], int] = {}
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
def _worker_pool(workers: int, env: dict[str, str]) -> Iterator[_Workers]:
    # Not forked from this process: a child would share its open database connections
    # and could close them under it. A fork server starts clean, imports this module
    # once, and forks each worker from there, which costs a fraction of a fresh spawn.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(env,),
    )
    pool = _Workers(executor, workers)
    try:
        yield pool
    finally:
        pool.started().shutdown(wait=True, cancel_futures=True)


def _run_in_workers(
    pool: ProcessPoolExecutor,
    batches: list[_Batch],
    site_code: str,
    actor: str,
    on_progress: Progress | None,
) -> list[BatchOutcome]:
    futures: dict[Future[tuple[Any, ...]], _Batch] = {
        pool.submit(_register_in_worker, site_code, actor, b.key, b.fields): b for b in batches
    }
    return list(_settled(futures, on_progress))


def _settled(
    futures: dict[Future[tuple[Any, ...]], _Batch], on_progress: Progress | None
) -> Iterator[BatchOutcome]:
    for future in as_completed(futures):
        outcome = _settle(futures[future], future.result())
        if on_progress is not None:
            on_progress(outcome.size)
        yield outcome
