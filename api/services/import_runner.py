"""Importing a checked arrivals file: batches through ``Registry.register_arrivals``.

Each batch (up to ``MAX_BATCH`` arrivals) is one command, so one transaction: all of it
or none.

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

Batches can run in worker processes (``api.services.import_workers``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any
from uuid import UUID

from campledger.api.database.recorder import CampledgerRecorder
from campledger.api.services.import_checked import ArrivalFields, GoodRow, RowProblem, to_arrival
from campledger.api.services.import_file import CheckedFile, read_arrivals
from campledger.api.services.import_kobo import ImportSource
from campledger.api.services.import_report import BatchOutcome, ImportReport
from campledger.api.services.import_workers import Workers, worker_pool
from campledger.domain.commands import MAX_BATCH, RegisterArrivals
from campledger.domain.model import errors
from campledger.domain.model.values import ISO_DATES
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
# The claims an arrival makes, and the field each one claims.
_CLAIMED = {
    REGISTRATION_NUMBER: attrgetter("registration_number"),
    BIOMETRIC_REFERENCE: attrgetter("biometric_reference"),
}

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class _Batch:
    index: int
    key: str
    lines: list[int]
    fields: list[ArrivalFields]


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
    source: ImportSource = ImportSource.AUTO,
    date_format: str = ISO_DATES,
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
            pool = stack.enter_context(worker_pool(workers, worker_env or {}, [__name__]))
        registry.get_open_site(site_code)
        # With workers, they check the rows too: they would otherwise sit idle until then.
        mapper = pool.map_chunks if pool is not None else None
        checked = read_arrivals(
            content, now=now or registry.clock(), map_chunks=mapper, source=source,
            date_format=date_format,
        )  # fmt: skip
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
            report.batches = _run_in_workers(pool, batches, site_code, actor, on_progress)
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
        scope: recorder.find_claims(scope, [v for _, f in good if (v := value_of(f)) is not None])
        for scope, value_of in _CLAIMED.items()
    }
    if any(owners.values()):
        prefix = key_prefix(checked.digest, report.site_code)
        ours = {
            UUID(person_id)
            for result in recorder.find_results(actor, COMMAND, prefix)
            for person_id in result.get("person_ids", ())
        }
        taken, done = _sort_claimed(good, owners, ours)
        report.problems.extend(taken)
        report.problems.sort(key=lambda p: p.line)
        report.already_imported = len(done)
        left_out = done | {p.line for p in taken}
        good = [(line, fields) for line, fields in good if line not in left_out]
    report.to_import = len(good)
    batches = []
    for index, start in enumerate(range(0, len(good), batch_size)):
        chunk = good[start : start + batch_size]
        lines = [line for line, _ in chunk]
        key = batch_key(checked.digest, report.site_code, lines)
        batches.append(_Batch(index, key, lines, [fields for _, fields in chunk]))
    return batches


def _sort_claimed(
    good: list[GoodRow], owners: dict[str, dict[str, UUID]], ours: set[UUID]
) -> tuple[list[RowProblem], set[int]]:
    """Rows whose unique values are already held: by this file's earlier runs (done), or
    by someone else (a problem, named by column)."""
    problems: list[RowProblem] = []
    done: set[int] = set()
    for line, fields in good:
        held = {
            scope: owner
            for scope, value_of in _CLAIMED.items()
            if (value := value_of(fields)) is not None
            and (owner := owners[scope].get(value)) is not None
        }
        if not held:
            continue
        holders = set(held.values())
        # Imported before: by this file's earlier run, or (a row naming its person, as a
        # Kobo export's _uuid does) by any file, that person holding the row's values.
        if len(holders) == 1 and (holders <= ours or holders == {fields.person_id}):
            done.add(line)
            continue
        for scope, owner in held.items():
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


# --- running -----------------------------------------------------------------------------

# What became of one batch, as plain data: it comes back from a worker process.


@dataclass(frozen=True, slots=True)
class _Registered:
    position: int
    replayed: bool


@dataclass(frozen=True, slots=True)
class _RefusedItem:
    index: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class _Refused:
    """The batch was refused for these of its items."""

    items: list[_RefusedItem]


@dataclass(frozen=True, slots=True)
class _Failed:
    """The batch was refused as a whole."""

    code: str
    message: str


_Verdict = _Registered | _Refused | _Failed


def _register(
    registry: Registry, site_code: str, actor: str, key: str, rows: list[ArrivalFields]
) -> _Verdict:
    """One batch through the Registry."""
    try:
        command = RegisterArrivals(site_code=site_code, arrivals=[to_arrival(f) for f in rows])
        result = registry.handle(command, actor=actor, idempotency_key=key)
    except errors.BatchRejected as error:
        return _Refused(
            [
                _RefusedItem(i["index"], i["code"], i["message"])
                for i in error.details.get("items", ())
            ]
        )
    except errors.DomainError as error:
        return _Failed(error.code, error.message)
    return _Registered(result.position, result.replayed)


def _run_batch(
    registry: Registry, batch: _Batch, site_code: str, actor: str, on_progress: Progress | None
) -> BatchOutcome:
    outcome = _settle(batch, _register(registry, site_code, actor, batch.key, batch.fields))
    if on_progress is not None:
        on_progress(outcome.size)
    return outcome


def _run_in_workers(
    pool: Workers,
    batches: list[_Batch],
    site_code: str,
    actor: str,
    on_progress: Progress | None,
) -> list[BatchOutcome]:
    futures = {pool.submit(_register, site_code, actor, b.key, b.fields): b for b in batches}
    return list(_settled(futures, on_progress))


def _settled(
    futures: dict[Future[_Verdict], _Batch], on_progress: Progress | None
) -> Iterator[BatchOutcome]:
    for future in as_completed(futures):
        outcome = _settle(futures[future], future.result())
        if on_progress is not None:
            on_progress(outcome.size)
        yield outcome


def _settle(batch: _Batch, verdict: _Verdict) -> BatchOutcome:
    if isinstance(verdict, _Registered):
        status = "replayed" if verdict.replayed else "imported"
        return _outcome(batch, status, position=verdict.position)
    if isinstance(verdict, _Refused):
        problems = [
            RowProblem(
                batch.lines[item.index],
                _COLUMN_OF_CODE.get(item.code, "*"),
                item.code,
                item.message,
            )
            for item in verdict.items
        ]
    else:
        problems = [RowProblem(batch.lines[0], "*", verdict.code, verdict.message)]
    return _outcome(batch, "refused", problems=problems)


def _outcome(batch: _Batch, status: str, **kwargs: Any) -> BatchOutcome:
    return BatchOutcome(
        index=batch.index,
        first_line=batch.lines[0],
        last_line=batch.lines[-1],
        size=len(batch.lines),
        status=status,
        **kwargs,
    )
