"""Rebuilding a read model in memory: fold the whole log into rows, then write each table
once with COPY.

The live path applies each event with a statement or two per read model, which is right
for a few events a second and slow for a log of millions: a rebuild is a batch job into
fresh tables nothing reads until the swap. A model that can fold the log in memory offers
a ``Fold`` (``ReadModel.fold``); its tables are created without their indexes, filled by
COPY and indexed once. The fold follows the live handlers exactly, and the tests that
compare a rebuilt model with one fed live hold it to that.

An event a fold cannot apply is set aside for that model, as the live path does. If the
folded rows cannot be written (a row the live path would have refused), the model is
rebuilt again along the live path, so a fold can make a rebuild slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from campledger.projections import quarantine
from campledger.projections.readmodel import Envelope, Fold, ReadModel, Undecodable


def feed(
    cur: psycopg.Cursor[Any], model: ReadModel, fold: Fold, events: Sequence[Envelope]
) -> None:
    """Fold a batch of events in, in log order, setting aside those that cannot be."""
    for envelope in events:
        event = envelope.event
        if isinstance(event, Undecodable):
            quarantine.set_aside(cur, model, envelope, event.error)
            continue
        try:
            fold.apply(envelope)
        except Exception as error:  # the event's fault, as a failing handler's would be
            quarantine.set_aside(cur, model, envelope, quarantine.describe(error))


def copy_rows(
    cur: psycopg.Cursor[Any], model: ReadModel, table: str, columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:  # fmt: skip
    """COPY rows into one of the model's tables, in binary: each value dumped by its
    column's type (read from the table itself), with no text to format and parse."""
    cur.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        (f'"{model.schema}"."{table}"',),
    )
    types = dict(cur.fetchall())
    statement = model.q(
        f"COPY {{schema}}.{table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    )
    with cur.copy(statement) as copy:
        copy.set_types([types[column] for column in columns])
        for row in rows:
            copy.write_row(row)
