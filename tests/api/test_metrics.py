"""/metrics: the process and platform collectors are there, names carry their units, and
the projector's lag is reported by the projector itself as it applies events, without
anyone calling /health."""

from __future__ import annotations

import re
import time

from prometheus_client.parser import text_string_to_metric_families

from campledger.api.http.metrics import PROJECTION_LAG
from campledger.projections.catalog import READ_MODELS
from tests.api.conftest import Api

UNITS = ("_total", "_seconds", "_events", "_bytes", "_info")


def scrape(api: Api) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = api.client.get("/metrics", headers=api.auth("monitor"))
    assert response.status_code == 200, response.text
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def test_process_and_platform_metrics_are_kept(api: Api) -> None:
    samples = scrape(api)
    for name in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "python_info",
        "python_gc_objects_collected_total",
    ):
        assert name in samples, name


def test_every_metric_of_ours_names_its_unit(api: Api) -> None:
    api.client.get("/livez")
    response = api.client.get("/metrics", headers=api.auth("monitor"))
    ours = [
        f for f in text_string_to_metric_families(response.text) if f.name.startswith("campledger_")
    ]
    assert {f.name for f in ours} >= {
        "campledger_http_requests",  # the parser drops a counter's _total
        "campledger_http_request_duration_seconds",
        "campledger_projection_lag_events",
        "campledger_projector_heartbeat_timestamp_seconds",
        "campledger_projected_events",
    }
    for family in ours:
        if family.name.endswith("_created"):
            continue  # the client's companion of each counter: when it started (seconds)
        name = family.name + ("_total" if family.type == "counter" else "")
        assert name.endswith(UNITS), name
    assert re.search(r"^campledger_http_requests_total\{", response.text, re.M)


def test_the_projector_reports_its_lag_as_it_applies_events_without_health(api: Api) -> None:
    names = [model.name for model in READ_MODELS]
    for name in names:  # a value the projector never reports: whatever set it, not it
        PROJECTION_LAG.labels(read_model=name).set(-1)
    before = scrape(api).get("campledger_projected_events_total", {}).get((), 0.0)
    site = api.open_site()
    api.register(site, 3)
    api.wait()
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(api)
        lag = {
            dict(k)["read_model"]: v for k, v in samples["campledger_projection_lag_events"].items()
        }
        if all(lag.get(name) == 0 for name in names) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert {name: lag.get(name) for name in names} == dict.fromkeys(names, 0)
    assert samples["campledger_projected_events_total"][()] >= before + 4  # site + 3 people
    heartbeat = samples["campledger_projector_heartbeat_timestamp_seconds"][()]
    assert time.time() - heartbeat < 10
