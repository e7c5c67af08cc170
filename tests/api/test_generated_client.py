"""A client generated from the served OpenAPI document, with a maintained generator
(openapi-python-client), plays a reception: open a site, register a truckload, read the
roster, page through it with the cursor. What a partner's developer would do first.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.api.conftest import arrival_json
from tests.reliability.support import Server, as_url, make_token

PACKAGE = "campledger_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    served = Server(as_url(database_url), tmp_path / "serve")
    served.start()
    try:
        yield served
    finally:
        served.stop()


def generate(document: dict[str, Any], into: Path) -> dict[str, ModuleType]:
    """Generate the client package from the document, and import the modules it gives."""
    source = into / "openapi.json"
    source.write_text(httpx.Response(200, json=document).text)
    # ruff on the PATH: the generator formats what it writes with it.
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(source), "--meta", "none",
         "--output-path", str(into / PACKAGE)],
        capture_output=True, text=True, timeout=60, env={"PATH": path}, cwd=into,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(into))
    try:
        names = ("client", "api.sites.open_site", "api.arrivals.register_arrivals",
                 "api.sites.list_site_roster", "api.sites.get_site", "models")  # fmt: skip
        return {name: importlib.import_module(f"{PACKAGE}.{name}") for name in names}
    finally:
        sys.path.remove(str(into))


def test_a_generated_client_opens_a_site_registers_a_truckload_and_pages_the_roster(
    server: Server, database_url: str, tmp_path: Path
) -> None:
    document = httpx.get(server.base_url + "/openapi.json").json()
    generated = generate(document, tmp_path)
    client_module, models = generated["client"], generated["models"]
    token = make_token(as_url(database_url), "admin")
    client = client_module.AuthenticatedClient(base_url=server.base_url, token=token.secret)

    opened = generated["api.sites.open_site"].sync_detailed(
        client=client,
        body=models.SiteCreate.from_dict(
            {"code": "TIN-RC", "name": "Tine reception", "kind": "reception", "capacity": 50}
        ),
        idempotency_key="open-tin-rc",
    )
    assert opened.status_code == 201, opened.content
    assert (opened.parsed.site_code, opened.parsed.replayed) == ("TIN-RC", False)

    truck = [arrival_json(f"TIN-{n:04d}") for n in range(1, 6)]
    registered = generated["api.arrivals.register_arrivals"].sync_detailed(
        client=client,
        body=models.ArrivalBatchCreate.from_dict({"site_code": "TIN-RC", "arrivals": truck}),
        idempotency_key="tin-truck-1",
    )
    assert registered.status_code == 201, registered.content
    assert len(registered.parsed.person_ids) == 5
    position = registered.parsed.position
    assert int(registered.headers["X-Log-Position"]) == position

    roster = generated["api.sites.list_site_roster"]
    seen: list[str] = []
    page = roster.sync(client=client, code="TIN-RC", limit=2, wait_for=position)
    pages = 1
    while True:
        # Typed: each item is the roster row's own class, its fields attributes.
        assert isinstance(page, models.RosterPage), page
        assert all(isinstance(item, models.PersonPublic) for item in page.items), page.items
        assert {item.site_code for item in page.items} == {"TIN-RC"}
        seen.extend(item.registration_number for item in page.items)
        if not page.next_cursor:
            break
        page = roster.sync(client=client, code="TIN-RC", limit=2, cursor=page.next_cursor)
        pages += 1
    assert pages == 3
    assert sorted(seen) == [a["registration_number"] for a in truck]

    site = generated["api.sites.get_site"].sync(client=client, code="TIN-RC")
    assert isinstance(site, models.SitePublic), site
    assert (site.kind, site.capacity, site.is_open) == ("reception", 50, True)

    refused = roster.sync_detailed(
        client=client_module.AuthenticatedClient(base_url=server.base_url, token="cl_1_nope"),
        code="TIN-RC",
    )
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.Problem)
