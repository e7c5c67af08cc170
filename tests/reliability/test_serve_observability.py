"""`campledger serve` as operators run it: notices on stderr and nothing on stdout, JSON
logs when asked, and with --workers one /metrics that adds up every worker and reports
the projector's lag from the projector's own process, the multiprocess folder removed at
the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from campledger.api.services.auth import ensure_tokens_table
from campledger.projections.catalog import READ_MODELS
from tests.reliability.support import (
    campledger_executable,
    free_port,
    make_token,
    process_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

START_SECONDS = 90.0


def serve(
    database_url: str, tmp_path: Path, *args: str, **env: str
) -> tuple[subprocess.Popen[bytes], str, Path, Path]:
    port = free_port()
    environment = process_env(database_url, tmp_path, "serve-observability")
    environment.update(TMPDIR=str(tmp_path), **env)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [campledger_executable(), "serve", "--port", str(port), *args],
            env=environment, cwd=tmp_path, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert process.poll() is None, err.read_text()
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return process, base, out, err
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, err.read_text()
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_serve_in_text_prints_its_notices_on_stderr_and_nothing_on_stdout(
    database_url: str, tmp_path: Path
) -> None:
    process, base, out, err = serve(database_url, tmp_path, "--no-projector", COLUMNS="200")
    try:
        assert httpx.get(f"{base}/livez", headers={"X-Request-ID": "text-1"}).status_code == 200
    finally:
        stop(process)
    assert out.read_text() == ""
    notices = err.read_text()
    assert f"campledger API on {base}/api/v1" in notices
    assert "campledger console: point a browser at" in notices


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_serve_with_workers_json_logs_and_one_metrics_page(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = process_env(database_url, tmp_path, "serve-observability")
    env.update(CAMPLEDGER_LOG_FORMAT="json", CAMPLEDGER_LOG_LEVEL="INFO", TMPDIR=str(tmp_path))
    base = f"http://127.0.0.1:{port}"
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [campledger_executable(), "serve", "--port", str(port), "--workers", "2"],
            env=env, cwd=tmp_path, stdout=stdout, stderr=stderr, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, err.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
        folders = list(tmp_path.glob("campledger-metrics-*"))
        assert len(folders) == 1 and any(folders[0].iterdir())
        with psycopg.connect(database_url, autocommit=True) as conn:
            ensure_tokens_table(conn)
        admin = {"Authorization": f"Bearer {make_token(database_url).secret}"}
        monitor = {"Authorization": f"Bearer {make_token(database_url, 'monitor').secret}"}
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(20):
                assert client.get("/livez").status_code == 200
            site = {"code": "OBS-1", "name": "Obs", "kind": "reception", "capacity": 10}
            assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
            scraped: dict[str, Any] = {}
            names = {model.name for model in READ_MODELS}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # never /health: the projector reports
                scraped = samples(client.get("/metrics", headers=monitor).text)
                lag = {
                    labels["read_model"]: value
                    for labels, value in scraped.get("campledger_projection_lag_events", [])
                }
                applied = sum(v for _, v in scraped.get("campledger_projected_events_total", []))
                if applied >= 1 and set(lag) >= names and not any(lag.values()):
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"no lag of 0 from the projector: {scraped}")
            livez = sum(
                value
                for labels, value in scraped["campledger_http_requests_total"]
                if labels["route"] == "/livez"
            )
            assert livez == 20  # both workers' requests, whichever answered the scrape
            assert "process_resident_memory_bytes" in scraped and "python_info" in scraped
            logged = client.get("/livez", headers={"X-Request-ID": "obs-trace-1"})
            assert logged.headers["X-Request-ID"] == "obs-trace-1"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert out.read_text() == ""  # serve has no results: every notice went to stderr
    notices = err.read_text()
    assert f"campledger API on http://127.0.0.1:{port}/api/v1" in notices
    # Every line is one JSON object, the notices included: a log shipper reads them all.
    records = [json.loads(line) for line in notices.splitlines()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["logger"] == "campledger.serve" for r in records)
    assert not list(tmp_path.glob("campledger-metrics-*"))  # removed at the end
