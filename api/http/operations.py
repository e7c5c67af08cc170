"""Each operation's ``operationId``: a stable, readable name a generated client calls.

FastAPI would derive one from the function name, path and method
(``site_roster_api_v1_sites__code__roster_get``), which changes whenever a route moves
and reads badly as a client's method. Named here, in one table, so a rename is a visible
change (tests/api/test_openapi_clients.py pins the whole set).
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id

_API = "/api/v1"

# (method, path) -> operationId. /health and /metrics answer at the root too, for probes
# that know no prefix: those are named apart, since an operationId is unique.
OPERATION_IDS: dict[tuple[str, str], str] = {
    ("POST", _API + "/arrivals"): "registerArrival",
    ("POST", _API + "/arrivals/batch"): "registerArrivals",
    ("GET", _API + "/audit/access-trail"): "listAccessTrail",
    ("GET", _API + "/audit/digest"): "getAuditDigest",
    ("GET", _API + "/audit/log"): "listAuditLog",
    ("GET", _API + "/audit/log.csv"): "exportAuditLogCsv",
    ("GET", _API + "/audit/persons/{person_id}/history"): "getPersonHistory",
    ("GET", _API + "/audit/proof"): "getAuditProof",
    ("GET", _API + "/duplicates"): "listDuplicateCandidates",
    ("POST", _API + "/duplicates/dismissals"): "dismissDuplicate",
    ("GET", _API + "/health"): "getHealth",
    ("GET", _API + "/health/live"): "getLiveness",
    ("GET", _API + "/health/ready"): "getReadiness",
    ("GET", _API + "/metrics"): "getMetrics",
    ("GET", _API + "/holds"): "listHolds",
    ("GET", _API + "/households/separated"): "listSeparatedHouseholds",
    ("GET", _API + "/households/{household_id}"): "getHousehold",
    ("GET", _API + "/persons/{person_id}"): "getPerson",
    ("POST", _API + "/persons/{person_id}/corrections"): "correctPerson",
    ("POST", _API + "/persons/{person_id}/departure"): "recordDeparture",
    ("POST", _API + "/persons/{person_id}/erasure"): "erasePersonalData",
    ("POST", _API + "/persons/{person_id}/hold"): "holdPerson",
    ("POST", _API + "/persons/{person_id}/merge"): "mergePersons",
    ("POST", _API + "/persons/{person_id}/release"): "releasePerson",
    ("POST", _API + "/persons/{person_id}/screening-steps"): "recordScreeningStep",
    ("GET", _API + "/persons/{person_id}/subject-export"): "exportSubjectData",
    ("GET", _API + "/sites"): "listSites",
    ("POST", _API + "/sites"): "openSite",
    ("GET", _API + "/sites/flows"): "listFlows",
    ("GET", _API + "/sites/flows.hxl.csv"): "exportFlowsHxl",
    ("GET", _API + "/sites/flows.hxl.xlsx"): "exportFlowsXlsx",
    ("GET", _API + "/sites/nationalities.hxl.csv"): "exportNationalitiesHxl",
    ("GET", _API + "/sites/nationalities.hxl.xlsx"): "exportNationalitiesXlsx",
    ("GET", _API + "/sites/occupancy"): "listOccupancy",
    ("GET", _API + "/sites/occupancy.hxl.csv"): "exportOccupancyHxl",
    ("GET", _API + "/sites/occupancy.hxl.xlsx"): "exportOccupancyXlsx",
    ("GET", _API + "/sites/{export}.hdx.json"): "getExportHdxMetadata",
    ("GET", _API + "/sites/{code}"): "getSite",
    ("POST", _API + "/sites/{code}/capacity"): "changeSiteCapacity",
    ("POST", _API + "/sites/{code}/close"): "closeSite",
    ("GET", _API + "/sites/{code}/flows"): "listSiteFlows",
    ("POST", _API + "/sites/{code}/imports"): "importArrivals",
    ("GET", _API + "/sites/{code}/occupancy"): "getSiteOccupancy",
    ("GET", _API + "/sites/{code}/roster"): "listSiteRoster",
    ("GET", _API + "/sites/{code}/roster.csv"): "exportSiteRosterCsv",
    ("GET", _API + "/sites/{code}/roster.xlsx"): "exportSiteRosterXlsx",
    ("POST", _API + "/sync"): "syncDevice",
    ("POST", _API + "/transfers"): "planTransfer",
    ("GET", _API + "/transfers/in-transit"): "listTransfersInTransit",
    ("GET", _API + "/transfers/unaccounted"): "listUnaccounted",
    ("GET", _API + "/transfers/{transfer_id}"): "getTransfer",
    ("POST", _API + "/transfers/{transfer_id}/cancel"): "cancelTransfer",
    ("POST", _API + "/transfers/{transfer_id}/dispatch"): "dispatchTransfer",
    ("POST", _API + "/transfers/{transfer_id}/receipts"): "receiveTransfer",
    ("POST", _API + "/transfers/{transfer_id}/reconcile"): "reconcileTransfer",
    ("GET", "/health"): "probeHealth",
    ("GET", "/health/live"): "probeLiveness",
    ("GET", "/health/ready"): "probeReadiness",
    ("GET", "/metrics"): "scrapeMetrics",
    ("GET", "/livez"): "checkLiveness",
    ("GET", "/readyz"): "checkReadiness",
}


def operation_id(route: APIRoute) -> str:
    """The route's name from the table; a route left out (or one outside the document, such
    as the console's) keeps FastAPI's derived id, which the test refuses in the document."""
    for method in sorted(route.methods or ()):
        found = OPERATION_IDS.get((method, route.path))
        if found:
            return found
    return generate_unique_id(route)
