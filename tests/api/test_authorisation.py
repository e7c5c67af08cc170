"""The authorisation matrix: every endpoint × every role × in or out of scope, plus no
token and a revoked one, generated from two tables written here as the specification.

A denied call gets 401 or 403 and writes nothing; an allowed call succeeds. Out of scope
means a token scoped to another site: site-bound endpoints refuse it, lists (and the HXL
exports) filter for it, and the audit endpoints (which span every site) take unscoped
tokens only. Through ``/sync`` each item is authorised as its own endpoint would be: the
refusal is that item's problem, in a 200.

A new route needs a row: an ``ENDPOINTS`` entry (permission, what it touches, how to
build a request) and its ``ROUTES`` entry ("METHOD /path" as published, without
/api/v1); ``test_every_published_route_is_in_the_matrix`` fails until both exist.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from starlette.routing import Route

from campledger.api.services.problems import PROBLEM_BASE
from tests.api.conftest import PREFIX, Api, arrival_json, assert_problem

ROLES = (
    "registrar", "screener", "transfer_officer", "site_manager", "auditor", "admin", "monitor",
    "data_protection_officer",
)  # fmt: skip
_READS = {"sites:read", "persons:read"}
EVERY = {
    "sites:read", "sites:write", "rosters:read", "arrivals:write", "persons:read",
    "screening:write", "departures:write", "corrections:write", "merges:write",
    "transfers:read", "transfers:write", "households:read", "audit:read",
    "duplicates:read", "duplicates:review", "metrics:read", "imports:write", "holds:read",
    "personal-data:erase", "personal-data:export",
}  # fmt: skip

# Least privilege, as the field jobs need it.
GRANTS: dict[str, set[str]] = {
    "registrar": _READS | {"rosters:read", "arrivals:write", "corrections:write", "imports:write"},
    "screener": _READS | {"rosters:read", "screening:write", "holds:read"},
    "transfer_officer": _READS | {"transfers:read", "transfers:write", "households:read"},
    "site_manager": _READS | {"sites:write", "rosters:read", "departures:write", "merges:write",
                              "transfers:read", "households:read", "duplicates:read",
                              "duplicates:review", "holds:read"},
    "auditor": {p for p in EVERY if p.endswith(":read")},
    "admin": EVERY,
    "monitor": {"metrics:read"},  # a scraper's token: metrics and nothing else
    # Erases, exports everything held about a person (their right of access), reads whom it
    # erases or exports and the trail of who read them; changes nothing else.
    "data_protection_officer": _READS | {"personal-data:erase", "personal-data:export",
                                         "audit:read"},
}  # fmt: skip


class Touches(Enum):
    SITE = "site"  # acts on one site: out of scope is refused
    LIST = "list"  # lists every site's rows: out of scope sees only its own
    ALL = "all"  # spans every site (audit): scoped tokens are refused
    NOTHING = "nothing"  # public (health)


@dataclass(frozen=True)
class Shared:
    """What the read endpoints look at; built once, never consumed."""

    home: str
    destination: str
    away: str
    person: UUID
    transfer: UUID
    household: str
    digest: dict[str, Any]


@dataclass
class Target:
    """One request, with the site it touches (what an in-scope token is scoped to)."""

    site: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    content: bytes | None = None  # a body that is not JSON (a CSV import)
    headers: dict[str, str] = field(default_factory=dict)


Make = Callable[[Api, Shared], Target]


@dataclass(frozen=True)
class Endpoint:
    permission: str | None
    touches: Touches
    make: Make
    rows_sites: Callable[[Any], list[set[str]]] | None = None  # for lists
    # /sync: the request itself needs only a live token; each item is authorised as its
    # own endpoint, and a refusal is that item's problem (status 200, nothing written).
    via_sync: bool = False


def _today_range() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"start": str(today - timedelta(days=1)), "end": str(today + timedelta(days=1))}


def _open_site(api: Api, s: Shared) -> Target:
    code = api.fresh_code("NEW")
    return Target(
        code, "POST", "/sites", {"code": code, "name": "n", "kind": "camp", "capacity": 9}
    )


def _close_site(api: Api, s: Shared) -> Target:
    code = api.open_site()
    return Target(code, "POST", f"/sites/{code}/close", {"reason": "flooded"})


def _batch(api: Api, s: Shared) -> Target:
    arrivals = [arrival_json(api.fresh_code("R")) for _ in range(2)]
    return Target(s.home, "POST", "/arrivals/batch", {"site_code": s.home, "arrivals": arrivals})


def _person_command(action: str, body: dict[str, Any], held: bool = False) -> Make:
    def make(api: Api, s: Shared) -> Target:
        person = api.held_person(s.home) if held else api.person(s.home)
        return Target(s.home, "POST", f"/persons/{person}/{action}", body)

    return make


def _merge(api: Api, s: Shared) -> Target:
    duplicate, survivor = api.register(s.home, 2)
    body = {"survivor_id": str(survivor), "reason": "same person"}
    return Target(s.home, "POST", f"/persons/{duplicate}/merge", body)


def _dismiss(api: Api, s: Shared) -> Target:
    first, other = api.register(s.home, 2)
    body = {"person_id": str(first), "other_id": str(other), "reason": "two people"}
    return Target(s.home, "POST", "/duplicates/dismissals", body)


def _plan(api: Api, s: Shared) -> Target:
    body = {"origin": s.home, "destination": s.destination, "manifest": [str(api.person(s.home))]}
    return Target(s.home, "POST", "/transfers", body)


def _transfer_command(action: str, body: dict[str, Any], dispatched: bool) -> Make:
    def make(api: Api, s: Shared) -> Target:
        new = api.dispatched_transfer if dispatched else api.planned_transfer
        transfer = new(s.home, s.destination)
        return Target(s.home, "POST", f"/transfers/{transfer}/{action}", body)

    return make


def _receive(api: Api, s: Shared) -> Target:
    transfer = api.dispatched_transfer(s.home, s.destination)
    body = {"site_code": s.destination, "persons": [str(p) for p in api.manifest(transfer)]}
    return Target(s.destination, "POST", f"/transfers/{transfer}/receipts", body)


def _get(path: str, site: str = "home", **params: Any) -> Make:
    """A read of the shared world; ``path`` may name the Shared fields."""

    def make(api: Api, s: Shared) -> Target:
        return Target(getattr(s, site), "GET", path.format(s=s), None, dict(params))

    return make


def _sites_of(*keys: str) -> Callable[[Any], list[set[str]]]:
    """The sites of each item of a page of a list."""
    return lambda page: [{row[k] for k in keys} for row in page["items"]]


def _hxl_sites(text: str) -> list[set[str]]:
    """The site of each data row of an HXL table (header, hashtag row, then data)."""
    _header, hashtags, *rows = list(csv.reader(io.StringIO(text)))
    column = hashtags.index("#loc+code")
    return [{row[column]} for row in rows]


def _import(api: Api, s: Shared) -> Target:
    number = api.fresh_code("IMP")
    content = (
        "registration_number,given_name,family_name,sex,nationality,estimated_age\n"
        f"{number},Amina,Haroun,female,SDN,30\n"
    ).encode()
    return Target(s.home, "POST", f"/sites/{s.home}/imports", content=content,
                  headers={"Content-Type": "text/csv"})  # fmt: skip


def _sync(kind: str, body: Callable[[Api, Shared], dict[str, Any]], **target: str) -> Make:
    """One item of a device's queue, as ``/sync`` takes it; ``target`` may name Shared
    fields (``person_id="person"``), or ``"held"`` for a person held at home."""

    def make(api: Api, s: Shared) -> Target:
        ids = {k: str(api.held_person(s.home) if v == "held" else getattr(s, v))
               for k, v in target.items()}  # fmt: skip
        item = {
            "idempotency_key": f"sync-{api.unique()}",
            "occurred_at": datetime.now(UTC).isoformat(),
            "device_id": "tablet-1",
            "type": kind,
            "body": body(api, s),
            **ids,
        }
        return Target(s.home, "POST", "/sync", {"items": [item]})

    return make


ENDPOINTS: dict[str, Endpoint] = {
    # sites
    "open site": Endpoint("sites:write", Touches.SITE, _open_site),
    "change capacity": Endpoint(
        "sites:write", Touches.SITE,
        lambda a, s: Target(s.home, "POST", f"/sites/{s.home}/capacity", {"capacity": 100}),
    ),
    "close site": Endpoint("sites:write", Touches.SITE, _close_site),
    "list sites": Endpoint("sites:read", Touches.LIST, _get("/sites"), _sites_of("code")),
    "get site": Endpoint("sites:read", Touches.SITE, _get("/sites/{s.home}")),
    "site occupancy": Endpoint("sites:read", Touches.SITE, _get("/sites/{s.home}/occupancy")),
    "all occupancy": Endpoint(
        "sites:read", Touches.LIST, _get("/sites/occupancy"), _sites_of("site_code")
    ),
    "site flows": Endpoint("sites:read", Touches.SITE, lambda a, s: Target(
        s.home, "GET", f"/sites/{s.home}/flows", params=_today_range())),
    "all flows": Endpoint("sites:read", Touches.LIST, lambda a, s: Target(
        s.home, "GET", "/sites/flows", params=_today_range()), _sites_of("site_code")),
    "roster": Endpoint("rosters:read", Touches.SITE, _get("/sites/{s.home}/roster")),
    "roster CSV": Endpoint(
        "rosters:read", Touches.SITE, _get("/sites/{s.home}/roster", format="csv")
    ),
    "roster .csv": Endpoint("rosters:read", Touches.SITE, _get("/sites/{s.home}/roster.csv")),
    "roster XLSX": Endpoint("rosters:read", Touches.SITE, _get("/sites/{s.home}/roster.xlsx")),
    "roster as of": Endpoint("rosters:read", Touches.SITE, lambda a, s: Target(
        s.home, "GET", f"/sites/{s.home}/roster",
        params={"as_of": datetime.now(UTC).isoformat()})),
    # arrivals
    "register arrival": Endpoint("arrivals:write", Touches.SITE, lambda a, s: Target(
        s.home, "POST", "/arrivals", {"site_code": s.home, **arrival_json(a.fresh_code("R"))})),
    "register batch": Endpoint("arrivals:write", Touches.SITE, _batch),
    # persons
    "get person": Endpoint("persons:read", Touches.SITE, _get("/persons/{s.person}")),
    "screening step": Endpoint("screening:write", Touches.SITE, _person_command(
        "screening-steps", {"step": "medical", "outcome": "cleared"})),
    "hold": Endpoint("screening:write", Touches.SITE, _person_command(
        "hold", {"reason": "x", "authority": "Governor", "order_reference": "ORD-1"})),
    "release": Endpoint(
        "screening:write", Touches.SITE, _person_command("release", {"reason": "x"}, held=True)
    ),
    "departure": Endpoint("departures:write", Touches.SITE, _person_command(
        "departure", {"reason": "resettled"})),
    "erasure": Endpoint("personal-data:erase", Touches.SITE, _person_command(
        "erasure", {"basis": "subject_request"})),
    # Spans every site the person passed through: unscoped tokens only, as for audits.
    "subject export": Endpoint("personal-data:export", Touches.ALL,
                               _get("/persons/{s.person}/subject-export")),
    "correction": Endpoint("corrections:write", Touches.SITE, _person_command(
        "corrections", {"field": "estimated_age", "value": 31, "reason": "document"})),
    "merge": Endpoint("merges:write", Touches.SITE, _merge),
    # transfers
    "plan transfer": Endpoint("transfers:write", Touches.SITE, _plan),
    "dispatch": Endpoint(
        "transfers:write", Touches.SITE, _transfer_command("dispatch", {}, dispatched=False)
    ),
    "receive": Endpoint("transfers:write", Touches.SITE, _receive),
    "reconcile": Endpoint(
        "transfers:write", Touches.SITE, _transfer_command("reconcile", {}, dispatched=True)
    ),
    "cancel": Endpoint("transfers:write", Touches.SITE, _transfer_command(
        "cancel", {"reason": "road closed"}, dispatched=False)),
    "get transfer": Endpoint("transfers:read", Touches.SITE, _get("/transfers/{s.transfer}")),
    "in transit": Endpoint("transfers:read", Touches.LIST, _get("/transfers/in-transit"),
                           _sites_of("origin", "destination")),
    "unaccounted": Endpoint("transfers:read", Touches.LIST, _get("/transfers/unaccounted"),
                            _sites_of("origin", "destination")),
    # holds
    "holds register": Endpoint("holds:read", Touches.LIST, _get("/holds"),
                               lambda page: [{r["site_code"], r["origin"], r["destination"]}
                                             for r in page["items"]]),
    # households
    "get household": Endpoint(
        "households:read", Touches.SITE, _get("/households/{s.household}")
    ),
    "separated households": Endpoint("households:read", Touches.LIST,
                                     _get("/households/separated"),
                                     lambda page: [set(r["sites"]) for r in page["items"]]),
    # duplicates
    "list duplicates": Endpoint("duplicates:read", Touches.LIST, _get("/duplicates"),
                                lambda page: [{r["person_site_code"], r["other_site_code"]}
                                              for r in page["items"]]),
    "dismiss duplicate": Endpoint("duplicates:review", Touches.SITE, _dismiss),
    # audit
    "audit digest": Endpoint("audit:read", Touches.ALL, _get("/audit/digest")),
    "audit proof": Endpoint("audit:read", Touches.ALL, lambda a, s: Target(
        s.home, "GET", "/audit/proof", params=s.digest)),
    "person history": Endpoint(
        "audit:read", Touches.ALL, _get("/audit/persons/{s.person}/history", personal="true")
    ),
    "audit log": Endpoint("audit:read", Touches.ALL, _get("/audit/log")),
    "audit log CSV": Endpoint("audit:read", Touches.ALL, _get("/audit/log.csv")),
    "access trail": Endpoint("audit:read", Touches.ALL, _get("/audit/access-trail")),
    # imports, exports and offline sync
    "import CSV": Endpoint("imports:write", Touches.SITE, _import),
    "occupancy HXL": Endpoint("sites:read", Touches.LIST, _get("/sites/occupancy.hxl.csv"),
                              _hxl_sites),
    "flows HXL": Endpoint("sites:read", Touches.LIST, lambda a, s: Target(
        s.home, "GET", "/sites/flows.hxl.csv", params=_today_range()), _hxl_sites),
    "nationalities HXL": Endpoint("sites:read", Touches.LIST,
                                  _get("/sites/nationalities.hxl.csv"), _hxl_sites),
    "nationalities HXL XLSX": Endpoint("sites:read", Touches.LIST,
                                       _get("/sites/nationalities.hxl.xlsx")),
    "occupancy HXL XLSX": Endpoint("sites:read", Touches.LIST,
                                   _get("/sites/occupancy.hxl.xlsx")),
    "flows HXL XLSX": Endpoint("sites:read", Touches.LIST, lambda a, s: Target(
        s.home, "GET", "/sites/flows.hxl.xlsx", params=_today_range())),
    # The same metadata for every caller: it names no site, so it has no rows to scope.
    "HDX metadata": Endpoint("sites:read", Touches.LIST, _get("/sites/occupancy.hdx.json")),
    "sync arrival": Endpoint("arrivals:write", Touches.SITE, _sync(
        "register_arrival",
        lambda a, s: {"site_code": s.home, **arrival_json(a.fresh_code("R"))}),
        via_sync=True),
    "sync release": Endpoint("screening:write", Touches.SITE, _sync(
        "release_person", lambda a, s: {"reason": "cleared"}, person_id="held"),
        via_sync=True),
    # health
    "health": Endpoint(None, Touches.NOTHING, _get("/health")),
    "ready": Endpoint(None, Touches.NOTHING, _get("/health/ready")),
    "live": Endpoint(None, Touches.NOTHING, _get("/health/live")),
    "metrics": Endpoint("metrics:read", Touches.ALL, _get("/metrics")),
}  # fmt: skip

CALLERS = [(role, scope) for role in ROLES for scope in ("in scope", "out of scope")] + [
    ("no token", None),
    ("revoked token", None),
]


@pytest.fixture(scope="module")
def shared(api: Api) -> Shared:
    home, destination, away = api.open_site(), api.open_site(kind="camp"), api.open_site()
    person = api.person(home)
    api.held_person(home)  # for the holds register
    transfer = api.dispatched_transfer(home, destination, count=2)
    first, _ = api.manifest(transfer)
    api.registry.receive_transfer(
        transfer_id=transfer, site_code=destination, persons=[first], actor="setup"
    )
    api.registry.reconcile_transfer(transfer_id=transfer, actor="setup")
    household = api.fresh_code("HH")
    parent, _ = api.register(home, 2, household_id=household)
    moving = api.registry.plan_transfer(
        origin=home, destination=destination, manifest=[parent], actor="setup"
    )
    api.registry.dispatch_transfer(transfer_id=UUID(moving.result["transfer_id"]), actor="setup")
    api.wait()
    digest = api.client.get(f"{PREFIX}/audit/digest", headers=api.auth("admin")).json()
    return Shared(home, destination, away, person, transfer, household, digest)


@pytest.fixture(scope="module")
def revoked(api: Api) -> dict[str, str]:
    return api.revoked_auth("admin")


def _headers(
    api: Api, caller: str, scope: str | None, site: str, endpoint: Endpoint, shared: Shared,
    revoked: dict[str, str],
) -> dict[str, str]:  # fmt: skip
    if caller == "no token":
        return {}
    if caller == "revoked token":
        return revoked
    if scope == "out of scope":
        return api.auth(caller, [shared.away])
    if endpoint.touches is Touches.ALL:
        return api.auth(caller)
    return api.auth(caller, [site])


def _expected(endpoint: Endpoint, caller: str, scope: str | None) -> tuple[int, str] | None:
    """The refusal (status, problem type) this caller must get, or None if allowed."""
    if endpoint.permission is None:
        return None
    if caller in ("no token", "revoked token"):
        return 401, "unauthorised"
    if endpoint.permission not in GRANTS[caller]:
        return 403, "forbidden"
    if scope == "out of scope" and endpoint.touches in (Touches.SITE, Touches.ALL):
        return 403, "out-of-scope"
    return None


CASES = [
    pytest.param(name, caller, scope, id=f"{name}-{caller}" + (f"-{scope}" if scope else ""))
    for name in ENDPOINTS
    for caller, scope in CALLERS
]


@pytest.mark.parametrize(("name", "caller", "scope"), CASES)
def test_authorisation_matrix(
    api: Api, shared: Shared, revoked: dict[str, str], name: str, caller: str, scope: str | None
) -> None:
    endpoint = ENDPOINTS[name]
    target = endpoint.make(api, shared)
    headers = _headers(api, caller, scope, target.site, endpoint, shared, revoked)
    before = api.writes()
    response = api.client.request(
        target.method, PREFIX + target.path, json=target.body, params=target.params,
        content=target.content, headers={**target.headers, **headers},
    )  # fmt: skip
    refusal = _expected(endpoint, caller, scope)
    if endpoint.via_sync and refusal is not None and refusal[0] == 403:
        (item,) = response.json()["results"]
        assert response.status_code == 200, response.text
        assert (item["status"], item["problem"]["type"]) == ("rejected", PROBLEM_BASE + refusal[1])
        assert api.writes() == before, "a refused sync item wrote something"
        return
    if refusal is not None:
        assert_problem(response, *refusal)
        assert api.writes() == before, "a refused call wrote something"
        return
    assert response.status_code in (200, 201), response.text
    if endpoint.via_sync:
        (item,) = response.json()["results"]
        assert item["status"] == "applied", item
    if endpoint.rows_sites is not None:
        json = response.headers["content-type"].startswith("application/json")
        seen = endpoint.rows_sites(response.json() if json else response.text)
        mine = shared.away if scope == "out of scope" else target.site
        assert all(mine in sites for sites in seen), f"rows of other sites leaked: {seen}"
        if scope == "in scope":
            assert seen, "an in-scope list must show the site's own rows"


ROUTES = {
    "open site": "POST /sites", "change capacity": "POST /sites/{code}/capacity",
    "close site": "POST /sites/{code}/close", "list sites": "GET /sites",
    "get site": "GET /sites/{code}", "site occupancy": "GET /sites/{code}/occupancy",
    "all occupancy": "GET /sites/occupancy", "site flows": "GET /sites/{code}/flows",
    "all flows": "GET /sites/flows", "roster": "GET /sites/{code}/roster",
    "roster CSV": "GET /sites/{code}/roster", "roster as of": "GET /sites/{code}/roster",
    "register arrival": "POST /arrivals", "register batch": "POST /arrivals/batch",
    "get person": "GET /persons/{person_id}",
    "screening step": "POST /persons/{person_id}/screening-steps",
    "hold": "POST /persons/{person_id}/hold", "release": "POST /persons/{person_id}/release",
    "departure": "POST /persons/{person_id}/departure",
    "erasure": "POST /persons/{person_id}/erasure",
    "subject export": "GET /persons/{person_id}/subject-export",
    "correction": "POST /persons/{person_id}/corrections",
    "merge": "POST /persons/{person_id}/merge", "plan transfer": "POST /transfers",
    "dispatch": "POST /transfers/{transfer_id}/dispatch",
    "receive": "POST /transfers/{transfer_id}/receipts",
    "reconcile": "POST /transfers/{transfer_id}/reconcile",
    "cancel": "POST /transfers/{transfer_id}/cancel",
    "get transfer": "GET /transfers/{transfer_id}", "in transit": "GET /transfers/in-transit",
    "unaccounted": "GET /transfers/unaccounted", "holds register": "GET /holds",
    "get household": "GET /households/{household_id}",
    "separated households": "GET /households/separated", "audit digest": "GET /audit/digest",
    "list duplicates": "GET /duplicates", "dismiss duplicate": "POST /duplicates/dismissals",
    "audit proof": "GET /audit/proof", "person history": "GET /audit/persons/{person_id}/history",
    "audit log": "GET /audit/log", "audit log CSV": "GET /audit/log.csv",
    "access trail": "GET /audit/access-trail", "health": "GET /health",
    "metrics": "GET /metrics",
    "import CSV": "POST /sites/{code}/imports", "occupancy HXL": "GET /sites/occupancy.hxl.csv",
    "flows HXL": "GET /sites/flows.hxl.csv", "sync arrival": "POST /sync",
    "nationalities HXL": "GET /sites/nationalities.hxl.csv",
    "HDX metadata": "GET /sites/{export}.hdx.json",
    "nationalities HXL XLSX": "GET /sites/nationalities.hxl.xlsx",
    "sync release": "POST /sync", "ready": "GET /health/ready", "live": "GET /health/live",
    "roster .csv": "GET /sites/{code}/roster.csv",
    "roster XLSX": "GET /sites/{code}/roster.xlsx",
    "occupancy HXL XLSX": "GET /sites/occupancy.hxl.xlsx",
    "flows HXL XLSX": "GET /sites/flows.hxl.xlsx",
}  # fmt: skip

# Published routes the matrix leaves out on purpose, each with the reason. (Root copies of
# /health* and /metrics are the same handlers as under /api/v1: one row covers both.)
NOT_IN_MATRIX: dict[str, str] = {
    "GET /livez": "served at the root only, by the handler of /health/live (row 'live')",
    "GET /readyz": "served at the root only, by the handler of /health/ready (row 'ready')",
}


def published_routes(api: Api) -> set[str]:
    """Every operation the app serves and every one its OpenAPI document states, as
    "METHOD /path" without /api/v1 (FastAPI's own documentation pages aside)."""
    app = api.client.app
    assert isinstance(app, FastAPI)
    own = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    served = {
        f"{method} {route.path.removeprefix(PREFIX)}"
        for route in app.routes
        if isinstance(route, Route) and route.path not in own
        for method in (route.methods or set()) - {"HEAD"}
    }
    stated = {
        f"{method.upper()} {path.removeprefix(PREFIX)}"
        for path, item in api.client.get("/openapi.json").json()["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    return served | stated


def test_every_endpoint_in_the_matrix_is_published(api: Api) -> None:
    """The table names real routes (a renamed route must not leave a row testing a 404)."""
    assert set(ROUTES) == set(ENDPOINTS)
    assert set(ROUTES.values()) <= published_routes(api)


def test_every_published_route_is_in_the_matrix(api: Api) -> None:
    """A new route cannot ship untested for who may call it: add its ENDPOINTS row and
    its ROUTES entry (or, for a route no token governs, a NOT_IN_MATRIX reason)."""
    missing = published_routes(api) - set(ROUTES.values()) - set(NOT_IN_MATRIX)
    assert not missing, f"published routes missing from the authorisation matrix: {missing}"
