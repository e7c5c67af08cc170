"""The console's layout, navigation and error pages, and the API left as it was."""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import HTMLResponse

from campledger.api.console.app import create_console
from campledger.api.console.assets import STATIC_DIR
from campledger.api.console.i18n import N_
from campledger.api.console.pages import Page
from campledger.api.console.security import POLICY as CONTENT_POLICY
from campledger.api.services.auth import Permission, Role
from tests.console.conftest import Browser, Console

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def console_with(console: Console, *pages: Page) -> FastAPI:
    """The console as a later slice builds it, with more pages, on the same database."""
    host = FastAPI()
    host.state.pool = console.app.state.pool
    built = create_console(host.state, console.app.state.backend.settings, pages)
    built.state.console.clock = console.clock
    return built


def holds_page() -> Page:
    """A page as a later slice adds one: the holds register, for roles with holds:read."""
    router = APIRouter()

    @router.get("/holds")
    def holds(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>the holds register</p>")

    return Page("holds", "/holds", N_("Holds"), Permission.HOLDS_READ, router)


def test_the_menu_lists_only_the_pages_the_role_may_open(console: Console) -> None:
    app = console_with(console, holds_page())
    for role, sees in ((Role.SCREENER, True), (Role.AUDITOR, True), (Role.REGISTRAR, False),
                       (Role.TRANSFER_OFFICER, False)):  # fmt: skip
        browser = Browser(TestClient(app, follow_redirects=False))
        assert browser.sign_in(*console.account(role.value)).status_code == 303
        home = browser.get("/")
        assert ('href="/holds"' in home.text) is sees, role
        opened = browser.get("/holds")
        if sees:
            assert opened.status_code == 200 and "the holds register" in opened.text
        else:
            assert opened.status_code == 403 and "You may not open this page" in opened.text


def test_the_menu_is_empty_until_the_one_time_password_is_replaced(console: Console) -> None:
    browser = Browser(TestClient(console_with(console, holds_page()), follow_redirects=False))
    browser.sign_in(*console.account("auditor", chosen=False))
    assert 'href="/holds"' not in browser.get("/password").text
    assert browser.get("/holds").headers["location"] == "/password"


def test_a_role_with_no_page_yet_lands_on_a_page_saying_who_it_is(console: Console) -> None:
    # Transfer officers have the people page now; monitors read only metrics.
    browser = console.signed_in("monitor", sites=["ABE-HF"])
    home = browser.get("/")
    assert home.status_code == 200
    assert "Monitor" in home.text and "ABE-HF" in home.text
    assert "There is nothing for your role to open in the console yet." in home.text
    assert "metrics only" in home.text


def test_an_unscoped_account_is_shown_all_sites(console: Console) -> None:
    assert "All sites" in console.signed_in("auditor").get("/").text


def test_an_unknown_address_is_a_page_in_the_readers_language(console: Console) -> None:
    page = console.signed_in(locale="ar").get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert 'dir="rtl"' in page.text and "الصفحة غير موجودة" in page.text
    anonymous = console.browser().get("/nowhere", headers={"Accept-Language": "fr-TD,fr;q=0.9"})
    assert anonymous.status_code == 404 and "Page introuvable" in anonymous.text


def test_a_wrong_method_is_a_page_too(console: Console) -> None:
    response = console.browser().client.put("/sign-in")
    assert response.status_code == 405 and "<html" in response.text


def test_an_unexpected_error_is_a_page_without_a_trace(console: Console) -> None:
    boom = APIRouter()

    @boom.get("/boom")
    def fail() -> None:
        raise RuntimeError("secret detail: Halima Adam")

    app = console_with(console, Page("boom", "/boom", N_("Home"), Permission.SITES_READ, boom))
    browser = Browser(TestClient(app, raise_server_exceptions=False, follow_redirects=False))
    browser.sign_in(*console.account("admin"))
    response = browser.get("/boom")
    assert response.status_code == 500 and "Something went wrong" in response.text
    assert "Halima" not in response.text and "Traceback" not in response.text


def test_the_api_keeps_its_own_answers_beside_the_console(console: Console) -> None:
    client = console.browser().client
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/health").status_code == 405
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/nowhere").headers["content-type"] == "application/problem+json"
    assert (
        client.get("/openapi.json")
        .json()["paths"]
        .keys()
        .isdisjoint({"/", "/sign-in", "/password", "/language", "/sign-out"})
    )


def test_pages_forbid_framing_and_foreign_scripts(console: Console) -> None:
    page = console.browser().get("/sign-in")
    assert page.headers["content-security-policy"] == CONTENT_POLICY
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline


def test_htmx_is_vendored_pinned_and_served_with_its_licence(console: Console) -> None:
    digest = hashlib.sha256((STATIC_DIR / "htmx.min.js").read_bytes()).hexdigest()
    assert digest == HTMX_SHA256
    assert "Zero-Clause BSD" in (STATIC_DIR / "htmx.LICENSE").read_text()
    page = console.browser().get("/sign-in")
    for name in ("htmx.min.js", "console.css"):
        assert f"/static/{name}?v=" in page.text
        asset = console.browser().client.get(f"/static/{name}?v=1")
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "http://" not in page.text.replace("http://www.w3.org", "")
    assert "https://" not in page.text


def test_the_stylesheet_uses_logical_properties_only() -> None:
    css = re.sub(r"/\*.*?\*/", "", (STATIC_DIR / "console.css").read_text(), flags=re.S)
    for physical in ("margin-left", "margin-right", "padding-left", "padding-right",
                     "text-align: left", "text-align: right", "float:", " left:", " right:",
                     "border-left", "border-right"):  # fmt: skip
        assert physical not in css, physical
