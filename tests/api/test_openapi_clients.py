"""The OpenAPI document is one a client generator can use: the token scheme declared on
every operation that needs it, readable operation ids, response headers, typed answers.

tests/api/test_generated_client.py plays a scenario with a client generated from it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.conftest import PREFIX, Api, arrival_json

PUBLIC = {"/health", "/health/live", "/health/ready", "/livez", "/readyz"}


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = api.client.get("/openapi.json").json()
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_the_bearer_scheme_is_declared(document: dict[str, Any]) -> None:
    (name,) = document["components"]["securitySchemes"]
    scheme = document["components"]["securitySchemes"][name]
    assert (name, scheme["type"], scheme["scheme"]) == ("bearer", "http", "bearer")
    assert scheme["description"]


def test_an_operation_declares_the_token_exactly_where_it_is_refused_without_one(
    api: Api, document: dict[str, Any]
) -> None:
    """Asked without a token, every operation that declares the scheme answers 401, and
    every one that does not (the health probes) answers without one."""
    for path, method, operation in operations(document):
        url = re.sub(r"\{[^}]+\}", "X1", path)
        response = api.client.request(method, url)
        declared = operation.get("security")
        if response.status_code == 401:
            assert declared == [{"bearer": []}], (method, path)
        else:
            assert declared is None, (method, path, response.status_code)
            assert path.removeprefix("/api/v1") in PUBLIC, (method, path)


# Every operationId, as a generated client names its methods: renaming one breaks the
# clients built on it, so a change here is a change of the API.
OPERATION_IDS = {
    "registerArrival", "registerArrivals",
    "listAccessTrail", "getAuditDigest", "listAuditLog", "exportAuditLogCsv",
    "getPersonHistory", "getAuditProof",
    "listDuplicateCandidates", "dismissDuplicate",
    "getHealth", "getLiveness", "getReadiness", "getMetrics",
    "probeHealth", "probeLiveness", "probeReadiness", "scrapeMetrics",
    "checkLiveness", "checkReadiness",
    "listHolds", "listSeparatedHouseholds", "getHousehold",
    "getPerson", "correctPerson", "recordDeparture", "holdPerson", "mergePersons",
    "erasePersonalData", "exportSubjectData",
    "releasePerson", "recordScreeningStep",
    "listSites", "openSite", "listFlows", "exportFlowsHxl", "listOccupancy",
    "exportOccupancyHxl", "getSite", "changeSiteCapacity", "closeSite", "listSiteFlows",
    "importArrivals", "getSiteOccupancy", "listSiteRoster",
    "exportOccupancyXlsx", "exportFlowsXlsx", "exportSiteRosterXlsx", "exportSiteRosterCsv",
    "exportNationalitiesHxl", "exportNationalitiesXlsx", "getExportHdxMetadata",
    "syncDevice",
    "planTransfer", "listTransfersInTransit", "listUnaccounted", "getTransfer",
    "cancelTransfer", "dispatchTransfer", "receiveTransfer", "reconcileTransfer",
}  # fmt: skip
CAMEL_CASE = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)*$")


def test_operation_ids_are_readable_unique_and_the_ones_clients_were_built_on(
    document: dict[str, Any],
) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert [i for i in ids if not CAMEL_CASE.match(i)] == []
    assert len(ids) == len(set(ids))
    assert set(ids) == OPERATION_IDS
    roster = document["paths"]["/api/v1/sites/{code}/roster"]["get"]
    assert roster["operationId"] == "listSiteRoster"


# The headers of ours a client acts on (standard ones such as Content-Type are left out).
OWN_HEADERS = (
    "X-Log-Position", "Idempotent-Replayed", "ETag", "X-Next-Cursor", "Retry-After", "X-Request-ID",
    "Location",
)  # fmt: skip


def assert_declared(document: dict[str, Any], path: str, response: httpx.Response) -> None:
    """Every header of ours in the answer is declared on its operation and status, and
    every header declared as always sent is there."""
    operation = document["paths"][PREFIX + path][response.request.method.lower()]
    declared = operation["responses"][str(response.status_code)].get("headers", {})
    sent = [name for name in OWN_HEADERS if name in response.headers]
    assert set(sent) <= set(declared), (path, response.status_code, sent, declared)
    required = {name for name, header in declared.items() if header["required"]}
    assert required <= set(sent), (path, response.status_code, required)


def test_the_headers_each_answer_carries_are_declared(api: Api, document: dict[str, Any]) -> None:
    admin = api.auth("admin")
    code = api.fresh_code()
    site = {"code": code, "name": "Site", "kind": "reception", "capacity": 10}
    for expected in (201, 201):  # the second is a replay, answering as the first did
        opened = api.client.post(
            PREFIX + "/sites", json=site, headers={**admin, "Idempotency-Key": f"open-{code}"}
        )
        assert opened.status_code == expected, opened.text
        assert_declared(document, "/sites", opened)
    assert opened.headers["Idempotent-Replayed"] == "true"
    batch = {"site_code": code, "arrivals": [arrival_json(api.fresh_code("R")) for _ in range(2)]}
    registered = api.client.post(PREFIX + "/arrivals/batch", json=batch, headers=admin)
    assert registered.status_code == 201, registered.text
    assert_declared(document, "/arrivals/batch", registered)
    api.wait()
    person = registered.json()["person_ids"][0]
    read = api.client.get(f"{PREFIX}/persons/{person}", headers=admin)
    assert_declared(document, "/persons/{person_id}", read)
    held = api.client.post(
        f"{PREFIX}/persons/{person}/hold",
        json={"reason": "interview", "authority": "Governor", "order_reference": "ORD-1"},
        headers={**admin, "If-Match": read.headers["ETag"]},
    )
    assert held.status_code == 200, held.text
    assert "ETag" in held.headers
    assert_declared(document, "/persons/{person_id}/hold", held)
    csv = api.client.get(f"{PREFIX}/sites/{code}/roster.csv", params={"limit": 1}, headers=admin)
    assert "X-Next-Cursor" in csv.headers
    assert_declared(document, "/sites/{code}/roster.csv", csv)
    former = api.client.get(
        f"{PREFIX}/sites/{code}/roster", params={"format": "csv", "limit": 1}, headers=admin
    )
    assert "X-Next-Cursor" in former.headers
    assert_declared(document, "/sites/{code}/roster", former)
    log = api.client.get(PREFIX + "/audit/log.csv", params={"limit": 1}, headers=admin)
    assert "X-Next-Cursor" in log.headers
    assert_declared(document, "/audit/log.csv", log)
    waiting = api.client.get(PREFIX + "/sites", params={"wait_for": api.head() + 1}, headers=admin)
    assert_declared(document, "/sites", waiting)


def test_retry_after_is_declared_wherever_a_token_meets_a_limit(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        if operation.get("security"):
            for status in ("429", "503"):
                headers = operation["responses"][status]["headers"]
                assert headers["Retry-After"]["schema"]["type"] == "integer", (method, path)
