"""The console on the wire: pages and static files gzipped for a browser that accepts it,
the API's answers as they were, and the CSRF token masked afresh on every page so that
compression gives nothing away about it (BREACH)."""

from __future__ import annotations

import base64

import pytest

from campledger.api.console.assets import static_url
from campledger.api.console.session import masked, unmasked
from tests.console.conftest import Browser, Console

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def locale_of(browser: Browser) -> str:
    page = browser.get("/")
    assert page.status_code == 200
    return page.text.split('lang="', 1)[1].split('"', 1)[0]


# --- compression ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/language", static_url("htmx.min.js")])
def test_pages_and_static_files_are_gzipped_for_a_browser_that_accepts_it(
    console: Console, path: str
) -> None:
    browser = console.signed_in()
    response = browser.get(path, headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    # What came over the wire is smaller than what the client unpacked.
    assert int(response.headers["content-length"]) < len(response.content)


@pytest.mark.parametrize("path", ["/", static_url("console.css")])
def test_nothing_is_compressed_for_a_client_that_does_not_accept_it(
    console: Console, path: str
) -> None:
    browser = console.signed_in()
    response = browser.get(path, headers=IDENTITY)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)


def test_the_sign_in_page_is_gzipped_before_anyone_signs_in(console: Console) -> None:
    response = console.browser().get("/sign-in", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/api/v1/sites"])
def test_the_api_answers_as_before(console: Console, path: str) -> None:
    response = console.browser().get(path, headers=GZIP)
    assert "content-encoding" not in response.headers
    assert "accept-encoding" not in response.headers.get("vary", "").lower()


# --- the masked CSRF token --------------------------------------------------------------


def test_masking_hides_the_token_differently_each_time_and_unmasks_to_it() -> None:
    token = "s3cr3t-token_of-a-session"
    first, second = masked(token), masked(token)
    assert first != second
    assert token not in first and token not in second
    assert unmasked(first) == unmasked(second) == token


@pytest.mark.parametrize(
    "presented",
    [None, "", "not base64!", "a" * 201, base64.urlsafe_b64encode(b"odd").decode(), "=="],
)
def test_what_is_not_a_masked_token_unmasks_to_nothing(presented: str | None) -> None:
    assert unmasked(presented) is None


def test_each_page_carries_a_different_token_and_each_is_accepted(console: Console) -> None:
    browser = console.signed_in()
    browser.get("/language")
    first = browser.csrf()
    browser.get("/language")
    second = browser.csrf()
    assert first != second
    assert f'"X-CSRF-Token": "{second}"' in browser.page.text  # type: ignore[union-attr]
    # An earlier page's form still works: the token is the session's, only its mask changed.
    assert browser.post("/language", {"locale": "fr", "csrf_token": first}).status_code == 303
    assert locale_of(browser) == "fr"
    sent = browser.client.post("/language", data={"locale": "ar"}, headers={"X-CSRF-Token": second})
    assert sent.status_code == 303
    assert locale_of(browser) == "ar"


def tampered(token: str) -> str:
    """The same token with one character of its masked half changed."""
    at = len(token) // 2 + 3
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def test_a_tampered_or_bare_token_is_refused_and_nothing_is_written(console: Console) -> None:
    browser = console.signed_in()
    browser.get("/language")
    token = browser.csrf()
    bare = unmasked(token)
    assert bare is not None
    remasked_wrong = masked(bare[:-1] + ("x" if bare[-1] != "x" else "y"))
    for presented in (tampered(token), bare, remasked_wrong, token[:-4]):
        response = browser.post("/language", {"locale": "fr", "csrf_token": presented})
        assert response.status_code == 403, presented
        header = browser.client.post(
            "/language", data={"locale": "fr"}, headers={"X-CSRF-Token": presented}
        )
        assert header.status_code == 403, presented
    assert locale_of(browser) == "en"


def test_the_sign_in_form_masks_its_token_afresh_and_refuses_a_tampered_one(
    console: Console,
) -> None:
    name, password = console.account()
    browser = console.browser()
    browser.get("/sign-in")
    first = browser.csrf()
    browser.get("/sign-in")
    second = browser.csrf()
    assert first != second and unmasked(first) == unmasked(second)
    cookie = browser.client.cookies.get("campledger_sign_in")
    assert cookie == unmasked(first) and cookie not in browser.page.text  # type: ignore[union-attr]

    for presented in (tampered(first), cookie):
        refused = browser.post(
            "/sign-in", {"name": name, "password": password, "csrf_token": presented or ""}
        )
        assert refused.status_code == 403
        assert "campledger_session" not in refused.headers.get("set-cookie", "")

    signed = browser.post("/sign-in", {"name": name, "password": password, "csrf_token": first})
    assert signed.status_code == 303
    assert "campledger_session" in signed.headers.get("set-cookie", "")
