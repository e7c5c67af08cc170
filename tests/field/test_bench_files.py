"""The files the benchmarks generate are files the product accepts: a benchmark whose
input the import refuses measures nothing (the import benchmark once wrote 13 columns
after the import had grown to 15)."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.import_arrivals import generate
from campledger.api.services.import_file import read_arrivals


def test_the_import_benchmark_file_passes_every_check() -> None:
    checked = read_arrivals(generate(200), now=datetime(2026, 11, 29, tzinfo=UTC))
    assert checked.problems == []
    assert checked.rows == len(checked.good) == 200
