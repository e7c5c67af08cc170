"""Screenshots of every page of the console, in English and Arabic, into ``docs/console/``.

    python -m bench.console_screenshots [--out docs/console]

Starts a PostgreSQL of its own in a temporary folder and ``campledger serve --demo`` on a
free port against it, creates an administrator for each language with
``campledger user create`` (the one-time password is changed at first sign-in, as a person
would), then signs in in Debian's Chromium and photographs the sign-in page, the first
password change, home, language, an error page and every page of the navigation
(``PAGES``: a page added later is photographed without touching this script) with the
first detail page it or one of its tabs links to, the forms that open and manage a
site, a site's screening queue with one person's screening forms, and a separated
household's member offered the way home with the transfer plan it opens, and an
administrator's new-account form and API tokens. A fixed tablet-sized viewport keeps the
files small, and ``optipng`` squeezes them when it is installed.

The workflows the demo has already finished (a file's check, a hold refused, a custody
transfer received, a reconciliation) are photographed by the reception story's browser
test instead: ``CAMPLEDGER_SCREENSHOTS=docs/console pytest
tests/console/browser/test_reception_story.py`` writes its ``story-*.png`` here, and this
script leaves them alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from bench.api_load import free_port
from bench.support import server_env
from campledger.api.console.pages import PAGES
from campledger.api.database.embedded import embedded_server

CHROMIUM = os.environ.get("CAMPLEDGER_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
CHOSEN = "a long walk to the well"
# Names the screenshots show: a registrar's console as a field office would see it.
STORY_SHOTS = "story-"
ADMINS = {"en": "Amina Haroun", "ar": "حليمة آدم"}


def campledger(*args: str, env: dict[str, str]) -> str:
    executable = Path(sys.executable).with_name("campledger")
    done = subprocess.run(
        [str(executable), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@contextmanager
def demo_server(database_url: str, data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``campledger serve --demo`` on a free port, once its read models have caught up."""
    env = server_env(database_url)
    env["CAMPLEDGER_DATA_DIR"] = str(data_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (data_dir / "serve.log").open("wb")
    executable = Path(sys.executable).with_name("campledger")
    server = subprocess.Popen(
        [str(executable), "serve", "--demo", "--port", str(port)],
        env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_caught_up(base, server)
        yield base, env
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def wait_until_caught_up(base: str, server: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("campledger serve --demo stopped; see serve.log")
        try:
            health = httpx.get(base + "/health", timeout=5).json()
            if health.get("lag") and not any(health["lag"].values()):
                return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit("the demo's read models did not catch up in time")


def links(page: Page, selector: str) -> list[str]:
    found: list[str] = page.locator(selector).evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return found


def tab_links(page: Page) -> list[str]:
    """The other tabs of a page (the transfers' states, the audit's parts)."""
    return links(page, "main nav.tabs a[href]:not([aria-current])")


def detail_link(page: Page, base: str, under: str) -> str | None:
    """The first link of the page's own content into a page below it (a person, a
    transfer), looked for on the page, then on each of its tabs: a tab may be empty in
    the demo while the next lists something."""
    for tab in [None, *tab_links(page)]:
        if tab is not None:
            page.goto(base + tab)
        # A list's rows first: a button above it ("Open a site") is a form, not a detail.
        hrefs = links(page, "main table a[href]") + links(page, "main a[href]")
        found = next((h for h in hrefs if h.startswith(under + "/") and "?" not in h), None)
        if found:
            return found
    return None


def screening_pages(page: Page, base: str) -> tuple[str, str] | None:
    """The men's security-interview queue of the first site that has one, and its first
    person's screening page (an account with many sites opens the queue on none)."""
    page.goto(base + "/screening")
    sites: list[str] = page.locator("main select#site option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)"
    )
    for code in sites:
        queue = f"/screening?site={code}&step=security&sex=male&age_band=18-59"
        page.goto(base + queue)
        people = links(page, "main table a[href^='/screening/persons/']")
        if people:
            return queue, people[0]
    return None


def photograph(page: Page, base: str, locale: str, name: str, password: str, out: Path) -> int:
    def shot(label: str) -> None:
        page.screenshot(path=out / f"{label}-{locale}.png")

    page.goto(base + "/sign-in")
    shot("sign-in")
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/sign-in'] button[type=submit]").click()
    page.wait_for_url(base + "/password")
    shot("password-first")
    page.locator("input[name=current]").fill(password)
    page.locator("input[name=new]").fill(CHOSEN)
    page.locator("input[name=confirm]").fill(CHOSEN)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/?done=password-changed")
    shot("home")
    for label, path in (("language", "/language"), ("error", "/no-such-page")):
        page.goto(base + path)
        shot(label)
    taken = 5
    for entry in PAGES:
        page.goto(base + entry.path)
        shot(entry.key)
        detail = detail_link(page, base, entry.path)
        if detail:
            page.goto(base + detail)
            shot(f"{entry.key}-detail")
            taken += 1
        taken += 1
    # The forms that write, which no menu entry leads to directly.
    page.goto(base + "/sites")
    manage = links(page, "main a[href$='/manage']")
    for label, path in (("site-new", "/sites/new"), ("site-manage", manage[0] if manage else "")):
        if path:
            page.goto(base + path)
            shot(label)
            taken += 1
    screening = screening_pages(page, base)
    if screening:
        for label, path in zip(("screening-queue", "screening-person"), screening, strict=True):
            page.goto(base + path)
            shot(label)
            taken += 1
        # A 'held' outcome sent without its order: the refusal, next to the field.
        page.locator("#outcome").select_option("held")
        page.locator("form[action$='/steps'] button[type=submit]").click()
        shot("screening-refused")
        taken += 1
        # The person's own page, with its correction and departure forms.
        page.goto(base + screening[1].split("?")[0].removeprefix("/screening"))
        shot("person")
        taken += 1
    # A separated household's member offered the way home (the plain shot of the page may
    # end above the first one), then the plan that link opens, filled in.
    page.goto(base + "/households")
    reunify = page.locator("main table a[href^='/transfers/new?']").first
    if reunify.count():
        reunify.evaluate("a => a.scrollIntoView({block: 'center'})")
        shot("households-reunify")
        page.goto(base + (reunify.get_attribute("href") or ""))
        shot("transfer-reunify")
        taken += 2
    # Planning a transfer from the first site's roster.
    page.goto(base + "/sites")
    sites = links(page, "main table a[href$='/roster']")
    if sites:
        origin = sites[0].split("/")[2]
        page.goto(f"{base}/transfers/new?origin={origin}")
        shot("transfer-new")
        taken += 1
    # An administrator's forms: a new account, and the API tokens.
    for label, path in (("account-new", "/accounts/new"), ("tokens", "/accounts/tokens")):
        page.goto(base + path)
        shot(label)
        taken += 1
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    # The reception story's pictures are the browser test's (STORY_SHOTS): kept.
    for old in out.glob("*.png"):
        if not old.name.startswith(STORY_SHOTS):
            old.unlink()
    with (
        tempfile.TemporaryDirectory(prefix="campledger-screenshots-") as tmp,
        embedded_server(Path(tmp) / "pg") as database_url,
        demo_server(database_url, Path(tmp)) as (base, env),
        sync_playwright() as driver,
    ):
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        for locale, name in ADMINS.items():
            created = campledger("user", "create", "--name", name, "--role", "admin",
                                 "--locale", locale, env=env)  # fmt: skip
            password = created.strip().splitlines()[-1]
            context = browser.new_context(viewport=VIEWPORT, locale=locale)
            taken = photograph(context.new_page(), base, locale, name, password, out)
            context.close()
            print(f"{taken} screenshots in {locale}")
        browser.close()
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", *map(str, out.glob("*.png"))], check=True)
    total = sum(png.stat().st_size for png in out.glob("*.png"))
    print(f"{out}: {len(list(out.glob('*.png')))} PNGs, {total / 1024:,.0f} KB")


if __name__ == "__main__":
    main()
