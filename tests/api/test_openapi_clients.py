"""The OpenAPI document is one a client generator can use: the token scheme declared on
every operation that needs it, readable operation ids, response headers, typed answers.

tests/api/test_generated_client.py plays a scenario with a client generated from it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import Api

PUBLIC = {"/health", "/health/live", "/health/ready"}


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
    "listHolds", "listSeparatedHouseholds", "getHousehold",
    "getPerson", "correctPerson", "recordDeparture", "holdPerson", "mergePersons",
    "releasePerson", "recordScreeningStep",
    "listSites", "openSite", "listFlows", "exportFlowsHxl", "listOccupancy",
    "exportOccupancyHxl", "getSite", "changeSiteCapacity", "closeSite", "listSiteFlows",
    "importArrivals", "getSiteOccupancy", "listSiteRoster",
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
