"""The console's weight on the wire and its roster's speed, on a site of 100,000 people.

Starts the real server (``campledger serve``, live projector included) on a free loopback
port against a fresh database (the embedded server, or a new database on
CAMPLEDGER_DATABASE_URL's server), registers 100,000 arrivals at one site in batches of
1,000 (``Registry.register_arrivals``, the path the CSV import ends in; names, households
and 2% registered twice from ``bench.duplicates_projection``'s caseload), waits for every
read model to catch up, signs in to the console as an administrator, then:

- weight: every page of the navigation (``PAGES``) and the first detail page each links
  to, plus the sign-in page, fetched as a first-time browser does (``Accept-Encoding:
  gzip``, empty cache): the page and every stylesheet, script, image and font it and its
  stylesheets name; bytes on the wire, response headers included. Target: the heaviest
  under 300 KB.
- render: the site's roster page (100 rows) from one client, one request at a time after
  a warm-up, alternating with the API's JSON roster page of 100 (the same-run baseline:
  the same read, the same access trail, no HTML); then the following pages by cursor and
  a search by name. Target: the console's p99 under 100 ms.

The client is httpx (about a millisecond per request of its own, counted in both).

    python -m bench.console_pages [--people 100000] [--requests 400]
"""

from __future__ import annotations

import re
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urljoin

import httpx
import typer
from rich.console import Console
from rich.table import Table

from bench.api_load import as_url, running_server
from bench.console_session import account_and_token, sign_in, wait_for_projection
from bench.duplicates_projection import caseload
from bench.support import fresh_database, library_env_for
from campledger.api.console.pages import PAGES
from campledger.api.console.rosters import PAGE_SIZE
from campledger.domain.commands import MAX_BATCH
from campledger.domain.service.registry import Registry

console = Console(width=None if sys.stdout.isatty() else 160)

SITE = "RC-BENCH"
NAME = "Bench Admin"
TARGET_KB = 300
TARGET_P99_MS = 100.0
GZIP = {"Accept-Encoding": "gzip"}
ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)"', re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
MAIN = re.compile(r"<main\b.*?</main>", re.DOTALL)
LINK = re.compile(r'<a\b[^>]*?\bhref="([^"]+)"')
NEXT = re.compile(r'class="button button--secondary more" href="([^"]+)"')

# --- seeding ---------------------------------------------------------------------------


def seed(url: str, people: int) -> float:
    """Register ``people`` arrivals at one site; the seconds it took."""
    # The caseload adds 2% registered a second time: ask for as many fewer.
    arrivals = caseload(round(people / 1.02), seed=19).arrivals[:people]
    registry = Registry(env=library_env_for(url))
    try:
        start = time.perf_counter()
        registry.open_site(code=SITE, name="Bench reception", kind="reception",
                           capacity=10_000_000, actor="bench")  # fmt: skip
        for i in range(0, len(arrivals), MAX_BATCH):
            registry.register_arrivals(
                site_code=SITE, arrivals=arrivals[i : i + MAX_BATCH], actor="bench"
            )
        return time.perf_counter() - start
    finally:
        registry.close()


# --- weight ----------------------------------------------------------------------------


@dataclass
class Weight:
    page: str
    status: int
    html_raw: int = 0
    html_wire: int = 0
    assets_wire: int = 0
    assets_raw: int = 0
    files: int = 1

    @property
    def wire(self) -> int:
        return self.html_wire + self.assets_wire


def on_wire(response: httpx.Response) -> int:
    """Body bytes as they came (compressed, if they were) plus the status line and headers."""
    head = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n\r\n")
    head += sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    return head + response.num_bytes_downloaded


def weigh(client: httpx.Client, path: str) -> tuple[Weight, str]:
    """A page and everything it names, as a browser with an empty cache fetches them."""
    page = client.get(path, headers=GZIP)
    weight = Weight(path, page.status_code, len(page.content), on_wire(page))
    seen: set[str] = set()
    queue = [urljoin(path, ref) for ref in ASSET.findall(page.text)]
    while queue:
        asset = queue.pop(0)
        if asset in seen or not asset.startswith("/") or asset.startswith("//"):
            continue  # data: images are in the page already; nothing comes from elsewhere
        seen.add(asset)
        got = client.get(asset, headers=GZIP)
        weight.assets_wire += on_wire(got)
        weight.assets_raw += len(got.content)
        weight.files += 1
        if "css" in got.headers.get("content-type", ""):
            queue += [urljoin(asset, ref) for ref in CSS_URL.findall(got.text)]
    return weight, page.text


def detail_of(html: str, under: str) -> str | None:
    """The first link of the page's main part to a page below it (as the screenshots)."""
    main = MAIN.search(html)
    links = LINK.findall(main.group(0)) if main else []
    return next((h for h in links if h.startswith(under + "/") and "?" not in h), None)


def weights(base: str, client: httpx.Client) -> list[Weight]:
    with httpx.Client(base_url=base, timeout=60) as stranger:
        found = [weigh(stranger, "/sign-in")[0]]
    pages: dict[str, str] = {}
    for entry in PAGES:
        weight, pages[entry.path] = weigh(client, entry.path)
        found.append(weight)
        detail = detail_of(pages[entry.path], entry.path)
        if detail:
            weight, pages[detail] = weigh(client, detail)
            found.append(weight)
    # A page whose list starts empty or behind a search (people): its detail page as
    # another page links to it (a person from the roster).
    for entry in PAGES:
        if not any(w.page.startswith(entry.path + "/") for w in found):
            elsewhere = (detail_of(html, entry.path) for html in pages.values())
            detail = next((d for d in elsewhere if d), None)
            if detail:
                found.append(weigh(client, detail)[0])
    return found


# --- render ----------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    seconds: list[float] = field(default_factory=list)
    wire: int = 0

    def ms(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def timed(client: httpx.Client, timing: Timing, path: str, headers: dict[str, str]) -> str:
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    text = response.text
    timing.seconds.append(time.perf_counter() - start)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {text[:200]}")
    timing.wire = max(timing.wire, on_wire(response))
    return text


def renders(client: httpx.Client, token: str, requests: int, name: str) -> list[Timing]:
    roster = f"/sites/{SITE}/roster"
    api = f"/api/v1/sites/{SITE}/roster?limit={PAGE_SIZE}"
    bearer = {"Authorization": f"Bearer {token}", **GZIP}
    first = Timing(f"console roster, first page of {PAGE_SIZE}")
    baseline = Timing(f"API JSON roster, first page of {PAGE_SIZE} (baseline)")
    warm_up = Timing("warm-up")
    for _ in range(20):
        timed(client, warm_up, roster, GZIP)
        timed(client, warm_up, api, bearer)
    # Alternating, so that whatever else the machine does falls on both alike.
    for _ in range(requests):
        timed(client, first, roster, GZIP)
        timed(client, baseline, api, bearer)

    # The following pages, as "Show more" asks for them: 20 pages deep, then again.
    links = [roster]
    while len(links) < 20:
        found = NEXT.search(timed(client, warm_up, links[-1], GZIP))
        if not found:
            break
        links.append(found.group(1).replace("&amp;", "&"))
    following = Timing(f"console roster, pages 2–{len(links)} by cursor")
    for i in range(requests // 2):
        timed(client, following, links[1 + i % (len(links) - 1)], GZIP)

    search = Timing(f"console roster, name search '{name}'")
    path = f"{roster}?name={name}"
    for _ in range(5):
        timed(client, warm_up, path, GZIP)
    for _ in range(requests // 4):
        timed(client, search, path, GZIP)
    return [first, baseline, following, search]


# --- report ----------------------------------------------------------------------------


def report(found: list[Weight], timings: list[Timing], seeding: str) -> None:
    table = Table(title="Console pages on a first visit (gzip, empty cache)")
    for column in ("page", "status", "files", "HTML KB", "HTML KB wire", "assets KB wire",
                   "total KB wire", "target", "met"):  # fmt: skip
        table.add_column(column, justify="left" if column == "page" else "right")
    heaviest = max(found, key=lambda w: w.wire)
    for w in found:
        met = w.wire <= TARGET_KB * 1024
        table.add_row(
            w.page + (" (heaviest)" if w is heaviest else ""), str(w.status), str(w.files),
            f"{w.html_raw / 1024:,.1f}", f"{w.html_wire / 1024:,.1f}",
            f"{w.assets_wire / 1024:,.1f}", f"{w.wire / 1024:,.1f}", f"≤ {TARGET_KB}",
            "met" if met else "NOT met",
        )  # fmt: skip
    console.print(table)

    table = Table(title=f"Roster render, one client, site of {seeding}")
    for column in ("request", "n", "p50 ms", "p95 ms", "p99 ms", "KB wire", "× API p50",
                   "× API p99", "target", "met"):  # fmt: skip
        table.add_column(column, justify="left" if column == "request" else "right")
    base = timings[1]
    for t in timings:
        is_base = t is base
        target = "" if is_base else f"p99 < {TARGET_P99_MS:.0f}"
        met = "" if is_base else ("met" if t.ms(0.99) < TARGET_P99_MS else "NOT met")
        table.add_row(
            t.label, str(len(t.seconds)), f"{t.ms(0.50):.1f}", f"{t.ms(0.95):.1f}",
            f"{t.ms(0.99):.1f}", f"{t.wire / 1024:,.1f}",
            "" if is_base else f"{t.ms(0.50) / base.ms(0.50):.2f}x",
            "" if is_base else f"{t.ms(0.99) / base.ms(0.99):.2f}x", target, met,
        )  # fmt: skip
    console.print(table)
    console.print(
        f"Heaviest page {heaviest.page}: {heaviest.wire / 1024:,.1f} KB on the wire "
        f"({heaviest.html_raw / 1024:,.0f} KB of HTML before compression). Bytes on the wire "
        "are the bodies as sent plus status lines and headers. Client, server, projector and "
        "PostgreSQL share the machine."
    )


def main(
    people: Annotated[int, typer.Option(help="People registered at the site.")] = 100_000,
    requests: Annotated[
        int, typer.Option(help="Timed first-page requests (and as many API).")
    ] = 400,
    name: Annotated[str, typer.Option(help="The name searched for.")] = "Amina",
) -> None:
    # Stopped from outside (timeout, CI): still stop the server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with fresh_database("bench_console_pages") as conninfo:
        url = as_url(conninfo)
        seeded = seed(url, people)
        with running_server(url, workers=1) as (base, _):
            projected = wait_for_projection(base, poll=1)
            token = account_and_token(url, NAME, "admin", "bench")
            console.print(f"{people:,} people registered in {seeded:.0f} s, projected in "
                          f"{projected:.0f} s more; measuring…")  # fmt: skip
            with httpx.Client(base_url=base, timeout=60) as client:
                sign_in(client, NAME, GZIP)
                found = weights(base, client)
                timings = renders(client, token, requests, name)
    report(found, timings, f"{people:,} people")


if __name__ == "__main__":
    typer.run(main)
