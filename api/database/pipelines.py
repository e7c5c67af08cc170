"""Syncing a psycopg pipeline without waiting for ever on a large write.

``Pipeline.sync()`` hands its queued statements to libpq and stops writing as soon as its
queue is empty, even when libpq still holds bytes the socket would not take yet; then it
waits for results. The server, for its part, answers nothing in a pipeline before it has
read the sync. When a statement ahead is slow (the event table's insert lock, waited for
behind another writer) and a large one follows (a thousand events), the socket fills, the
rest of the large statement stays on the client, and each side waits for the other: the
transaction stays open, holding the insert lock, and every writer stops behind it.
Sending every byte first, reading what the server answers meanwhile so that it never
blocks writing to us, leaves ``sync()`` only the sync message itself to send.
"""

from __future__ import annotations

import selectors
from typing import Any

from psycopg import Connection, Pipeline


def send_all(conn: Connection[Any]) -> None:
    """Write out everything libpq holds for the server."""
    pgconn = conn.pgconn
    if not pgconn.flush():
        return
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_READ | selectors.EVENT_WRITE)
        while pgconn.flush():
            for _, events in selector.select():
                if events & selectors.EVENT_READ:
                    pgconn.consume_input()


def sync(conn: Connection[Any], pipeline: Pipeline) -> None:
    """``pipeline.sync()``, once every statement queued before it has reached the server."""
    send_all(conn)
    pipeline.sync()
