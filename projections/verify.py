"""Recompute the ledger's hash chain from the event table and say where, if anywhere, it breaks.

Two checks:

- ``verify_log``: recompute every link from the event rows and compare with the ledger's
  stored links, position by position, reporting the first disagreement: changed bytes,
  topic, aggregate or version (digest mismatch), a deleted row (a stored link with no event),
  a row slipped in (an event with no stored link below the ledger's head).
- ``prove_digest``: recompute the chain up to a position from the event table alone and
  compare with a digest the auditor kept. The stored links are not consulted for the
  answer, so rewriting both the events and the ledger is still caught.

Both stream the table through server-side cursors in one REPEATABLE READ snapshot; the
server encodes each row (``ENCODE_SQL``) so Python only hashes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from campledger.projections.event_log import EVENTS_TABLE
from campledger.projections.ledger import ENCODE_SQL, GENESIS, Ledger

FETCH = 20_000

# Told (events hashed so far, position reached, the log's last position) after each
# fetched batch, so that whoever waits on a long verification can watch it advance.
Progress = Callable[[int, int, int], None]


@dataclass(slots=True)
class VerifyReport:
    ok: bool
    events: int  # event rows hashed
    checked_up_to: int  # the ledger's last stored position (0: empty)
    head: int  # the log's last position
    digest: str  # the recomputed link at ``head`` (hex)
    seconds: float
    broken_at: int | None = None
    problem: str | None = None
    unverified: int = 0  # events past the ledger's last link (not yet projected)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "checked_up_to": self.checked_up_to,
            "head": self.head,
            "digest": self.digest,
            "broken_at": self.broken_at,
            "problem": self.problem,
            "unverified": self.unverified,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second),
        }


@dataclass(slots=True)
class ProofReport:
    ok: bool
    position: int
    expected: str
    recomputed: str | None  # None: the log has no event at that position
    events: int
    seconds: float
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "position": self.position,
            "expected": self.expected,
            "recomputed": self.recomputed,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "problem": self.problem,
        }


def _stream(
    conn: psycopg.Connection[Any], name: str, query: sql.Composed, params: Any = None
) -> Iterator[tuple[Any, ...]]:
    # Named (server-side) cursor: a million rows never sit in memory at once; binary so
    # bytea arrives as raw bytes instead of hex text to decode.
    with conn.cursor(name=name, binary=True) as cur:
        cur.itersize = FETCH
        cur.execute(query, params)
        while rows := cur.fetchmany(FETCH):
            yield from rows


def _events(conn: psycopg.Connection[Any], upto: int | None) -> Iterator[tuple[Any, ...]]:
    where = sql.SQL("WHERE notification_id <= %s") if upto is not None else sql.SQL("")
    query = sql.SQL("SELECT notification_id, {} FROM {} {} ORDER BY notification_id").format(
        sql.SQL(ENCODE_SQL), sql.Identifier(EVENTS_TABLE), where
    )
    return _stream(conn, "ledger_events", query, (upto,) if upto is not None else None)


def _links(conn: psycopg.Connection[Any], schema: str) -> Iterator[tuple[Any, ...]]:
    query = sql.SQL("SELECT position, digest FROM {}.links ORDER BY position").format(
        sql.Identifier(schema)
    )
    return _stream(conn, "ledger_links", query)


def verify_log(
    conninfo: str, schema: str | None = None, progress: Progress | None = None
) -> VerifyReport:
    """Recompute the chain over the whole log and compare it with the ledger's links."""
    schema = schema or Ledger.live_schema()
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            row = conn.execute(
                sql.SQL("SELECT max(position) FROM {}.links").format(sql.Identifier(schema))
            ).fetchone()
            ledger_head = int(row[0]) if row and row[0] is not None else 0
            events = _events(conn, None)
            if progress is not None:
                events = _reported(events, _log_head(conn), progress)
            report = _compare(events, _links(conn, schema), ledger_head)
    report.seconds = time.perf_counter() - started
    return report


def _log_head(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        sql.SQL("SELECT max(notification_id) FROM {}").format(sql.Identifier(EVENTS_TABLE))
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _reported(
    events: Iterator[tuple[Any, ...]], log_head: int, progress: Progress
) -> Iterator[tuple[Any, ...]]:
    count = 0
    progress(0, 0, log_head)
    for event in events:
        yield event
        count += 1
        if count % FETCH == 0:
            progress(count, event[0], log_head)
    progress(count, log_head, log_head)


def _compare(
    events: Iterator[tuple[Any, ...]], links: Iterator[tuple[Any, ...]], ledger_head: int
) -> VerifyReport:
    sha256 = hashlib.sha256
    link = GENESIS
    count = 0
    head = 0
    stored = next(links, None)
    report = VerifyReport(True, 0, ledger_head, 0, GENESIS.hex(), 0.0)
    for position, encoded in events:
        # A stored link for a position the log no longer holds: that row was deleted.
        if stored is not None and stored[0] < position:
            return _broken(report, count, stored[0], "event missing: the ledger has a link here")
        link = sha256(link + encoded).digest()
        count += 1
        head = position
        if stored is not None and stored[0] == position:
            if bytes(stored[1]) != link:
                return _broken(report, count, position, "digest mismatch: event altered or moved")
            stored = next(links, None)
        elif position <= ledger_head:
            return _broken(report, count, position, "event not in the ledger: inserted later")
        else:
            report.unverified += 1
    if stored is not None:
        return _broken(report, count, stored[0], "event missing: the ledger has a link here")
    report.events, report.head, report.digest = count, head, link.hex()
    return report


def _broken(report: VerifyReport, count: int, position: int, problem: str) -> VerifyReport:
    report.ok = False
    report.events = count
    report.broken_at = position
    report.problem = problem
    return report


def recompute(conninfo: str, upto: int | None = None) -> tuple[int, int, bytes]:
    """(events hashed, last position, link) over the log up to ``upto``, from the events only."""
    sha256 = hashlib.sha256
    link = GENESIS
    count = 0
    last = 0
    with psycopg.connect(conninfo) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            for last, encoded in _events(conn, upto):  # noqa: B007 - ``last`` is used after
                link = sha256(link + encoded).digest()
                count += 1
    return count, last, link


def prove_digest(conninfo: str, position: int, digest_hex: str) -> ProofReport:
    """Does the log up to ``position`` still hash to the digest an auditor kept?"""
    started = time.perf_counter()
    expected = digest_hex.strip().lower()
    count, last, link = recompute(conninfo, position)
    seconds = time.perf_counter() - started
    if last != position:
        return ProofReport(
            False, position, expected, None, count, seconds,
            f"the log holds no event at position {position} (last at or below: {last})",
        )  # fmt: skip
    ok = link.hex() == expected
    problem = None if ok else "the log up to this position does not hash to the kept digest"
    return ProofReport(ok, position, expected, link.hex(), count, seconds, problem)
