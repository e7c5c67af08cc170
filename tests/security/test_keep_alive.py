"""Idle keep-alive connections are closed: clients that open connections and go quiet
cannot hold the server's sockets. Tested on ``campledger serve`` itself, since the
timeout lives in how it starts uvicorn."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from campledger.api.settings import Settings
from tests.reliability.support import Server

KEEP_ALIVE = 1  # seconds; uvicorn's own default is 5, so the setting must be what acts


def read_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length body, leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


def test_the_default_keep_alive_is_five_seconds() -> None:
    assert Settings.model_fields["keep_alive_seconds"].default == 5


def test_the_server_closes_an_idle_keep_alive_connection(
    api_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPLEDGER_KEEP_ALIVE_SECONDS", str(KEEP_ALIVE))
    server = Server(api_database_url, tmp_path, projector=False)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            # Any complete answer will do: a 401 needs neither the database nor a projector.
            sock.sendall(b"GET /api/v1/sites HTTP/1.1\r\nHost: campledger\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 401")
            idle_since = time.monotonic()
            assert sock.recv(1) == b"", "the server sent more than one response"
            idle = time.monotonic() - idle_since
    finally:
        server.stop()
    assert idle < KEEP_ALIVE + 2, f"an idle connection stayed open {idle:.1f} s"
