"""Signing in and out of the console through the ASGI app: sessions, cookies, CSRF,
lockout, expiry (the clock moved by hand), disabled and reset accounts."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
import pytest

from campledger.api.services.accounts import disable_account, reset_account
from campledger.api.services.sign_in import FREE_FAILURES
from tests.console.conftest import CHOSEN, CSRF, POLICY, Console, console_context


def cookie_attributes(response: httpx.Response, name: str) -> dict[str, str | bool]:
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        if name in parsed:
            morsel = parsed[name]
            return {key: morsel[key] for key in morsel if morsel[key]} | {"value": morsel.value}
    raise AssertionError(f"no {name} cookie set")


def test_sign_in_lands_on_the_home_page_saying_who_one_is(console: Console) -> None:
    name, password = console.account("screener", sites=["TIN-RC", "GOZ"])
    browser = console.browser()
    response = browser.sign_in(name, password)
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = browser.get("/")
    assert home.status_code == 200
    assert name in home.text and "Screener" in home.text
    assert "TIN-RC" in home.text and "GOZ" in home.text


def test_the_session_cookie_is_httponly_strict_and_holds_no_hash_the_server_keeps(
    console: Console,
) -> None:
    name, password = console.account()
    response = console.browser().sign_in(name, password)
    cookie = cookie_attributes(response, "campledger_session")
    assert cookie["httponly"] is True and cookie["samesite"] == "strict"
    assert cookie["path"] == "/" and not cookie.get("secure")
    assert "max-age" not in cookie and "expires" not in cookie  # gone when the browser closes
    stored = console.conn.execute("SELECT token_sha256 FROM account_sessions").fetchall()
    assert cookie["value"] not in {row[0] for row in stored}


def test_the_cookie_is_secure_over_tls(console: Console) -> None:
    name, password = console.account()
    response = console.browser(base_url="https://testserver").sign_in(name, password)
    assert cookie_attributes(response, "campledger_session")["secure"] is True


def test_the_cookie_is_secure_behind_a_tls_proxy_when_the_settings_say_so(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_context(console.app), "secure_cookies", True)
    # The proxy speaks HTTPS to the browser and plain HTTP to campledger.
    response = console.browser().get("/sign-in")
    assert cookie_attributes(response, "campledger_sign_in")["secure"] is True


def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(
    console: Console,
) -> None:
    browser = console.browser()
    response = browser.get("/language")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Flanguage"
    name, password = console.account()
    signed = browser.sign_in(name, password, next="/language")
    assert signed.headers["location"] == "/language"


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example", "/\\x"])
def test_sign_in_never_sends_the_browser_to_another_site(console: Console, target: str) -> None:
    name, password = console.account()
    response = console.browser().sign_in(name, password, next=target)
    assert response.headers["location"] == "/"


def test_a_wrong_password_is_refused_keeping_the_name_and_never_the_password(
    console: Console,
) -> None:
    name, _ = console.account()
    browser = console.browser()
    response = browser.sign_in(name, "not-the-password")
    assert response.status_code == 401
    assert "The name or the password is not right." in response.text
    assert f'value="{name}"' in response.text and "not-the-password" not in response.text
    assert "campledger_session" not in response.headers.get("set-cookie", "")


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(console: Console) -> None:
    name, _ = console.account()
    known = console.browser().sign_in(name, "not-the-password")
    unknown = console.browser().sign_in("nobody-at-all", "not-the-password")
    assert known.status_code == unknown.status_code == 401

    def shown(page: httpx.Response, typed: str) -> str:
        return CSRF.sub("TOKEN", page.text.replace(typed, "NAME"))

    assert shown(known, name) == shown(unknown, "nobody-at-all")


def test_failures_slow_down_then_lock_the_account_until_it_is_reset(console: Console) -> None:
    name, password = console.account()
    browser = console.browser()
    for attempt in range(1, POLICY.lock_after_failures):
        response = browser.sign_in(name, "wrong")
        assert response.status_code == 401
        if attempt > FREE_FAILURES:
            assert response.headers["retry-after"] == str(2 ** (attempt - FREE_FAILURES - 1))
            early = browser.sign_in(name, password)
            assert early.status_code == 429 and "Too many failed attempts." in early.text
            console.clock.advance(seconds=int(response.headers["retry-after"]))
    locked = browser.sign_in(name, "wrong")
    assert "This account is locked" in locked.text
    console.clock.advance(days=1)
    assert "This account is locked" in browser.sign_in(name, password).text

    issued = reset_account(console.conn, name, now=console.clock(), policy=POLICY)
    assert browser.sign_in(name, issued.one_time_password).headers["location"] == "/password"


def test_a_one_time_password_must_be_changed_before_anything_opens(console: Console) -> None:
    name, one_time = console.account(chosen=False)
    browser = console.browser()
    assert browser.sign_in(name, one_time).headers["location"] == "/password"
    for path in ("/", "/language"):
        assert browser.get(path).headers["location"] == "/password"
    page = browser.get("/password")
    assert "Choose your password" in page.text and 'href="/language"' not in page.text

    short = browser.submit("/password", {"current": one_time, "new": "short", "confirm": "short"})
    assert short.status_code == 400 and "Use at least 12 characters" in short.text
    mismatch = browser.submit(
        "/password", {"current": one_time, "new": CHOSEN, "confirm": CHOSEN + "!"}
    )
    assert mismatch.status_code == 400 and "are not the same" in mismatch.text
    wrong = browser.submit("/password", {"current": "wrong", "new": CHOSEN, "confirm": CHOSEN})
    assert wrong.status_code == 400 and "current password is not right" in wrong.text

    old_cookie = browser.client.cookies["campledger_session"]
    done = browser.submit("/password", {"current": one_time, "new": CHOSEN, "confirm": CHOSEN})
    assert done.status_code == 303 and done.headers["location"] == "/?done=password-changed"
    assert browser.client.cookies["campledger_session"] != old_cookie  # a new session
    assert "Your password has been changed." in browser.get(done.headers["location"]).text
    assert console.browser().sign_in(name, one_time).status_code == 401
    assert console.browser().sign_in(name, CHOSEN).headers["location"] == "/"


def test_guessing_the_password_from_a_signed_in_browser_locks_and_signs_it_out(
    console: Console,
) -> None:
    browser = console.signed_in()
    for _ in range(POLICY.lock_after_failures):
        browser.get("/password")
        response = browser.submit(
            "/password", {"current": "guess", "new": "x" * 20, "confirm": "x" * 20}
        )
        console.clock.advance(minutes=10)
    assert response.headers["location"] == "/sign-in?done=locked"
    assert browser.get("/").status_code == 303


def test_sign_out_ends_the_session_for_good(console: Console) -> None:
    browser = console.signed_in(locale="ar")
    cookie = browser.client.cookies["campledger_session"]
    browser.get("/")
    response = browser.submit("/sign-out")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?done=signed-out&lang=ar"
    assert cookie_attributes(response, "campledger_session").get("max-age") == "0"
    # The old token, sent again by hand, opens nothing.
    replay = console.browser()
    replay.client.cookies.set("campledger_session", cookie, domain="testserver.local")
    assert replay.get("/").status_code == 303


def test_a_session_ends_after_the_idle_limit(console: Console) -> None:
    browser = console.signed_in()
    console.clock.advance(seconds=POLICY.session_idle.total_seconds() - 1)
    assert browser.get("/").status_code == 200  # activity moves the idle limit on
    console.clock.advance(seconds=POLICY.session_idle.total_seconds() - 1)
    assert browser.get("/").status_code == 200
    console.clock.advance(seconds=POLICY.session_idle.total_seconds())
    expired = browser.get("/")
    assert expired.headers["location"] == "/sign-in?next=%2F&done=expired"
    page = browser.get(expired.headers["location"])
    assert "Your session has ended" in page.text


def test_a_session_ends_at_its_absolute_limit_however_active(console: Console) -> None:
    browser = console.signed_in()
    step = POLICY.session_idle.total_seconds() / 2
    elapsed = 0.0
    while elapsed + step < POLICY.session_lifetime.total_seconds():
        assert browser.get("/").status_code == 200
        console.clock.advance(seconds=step)
        elapsed += step
    console.clock.advance(seconds=POLICY.session_lifetime.total_seconds() - elapsed)
    assert browser.get("/").status_code == 303


def test_disabling_an_account_ends_its_sessions(console: Console) -> None:
    name, password = console.account()
    browsers = [console.browser(), console.browser()]
    for browser in browsers:
        browser.sign_in(name, password)
        assert browser.get("/").status_code == 200
    disable_account(console.conn, name, now=console.clock())
    assert [b.get("/").status_code for b in browsers] == [303, 303]
    assert "disabled" in console.browser().sign_in(name, password).text


def test_resetting_an_account_ends_its_sessions(console: Console) -> None:
    name, password = console.account()
    browser = console.browser()
    browser.sign_in(name, password)
    reset_account(console.conn, name, now=console.clock(), policy=POLICY)
    assert browser.get("/").status_code == 303
    assert console.browser().sign_in(name, password).status_code == 401


def test_a_token_planted_before_sign_in_is_worth_nothing_after_it(console: Console) -> None:
    victim = console.browser()
    name, password = console.account()
    victim.client.cookies.set(
        "campledger_session", "planted-by-someone-else", domain="testserver.local"
    )
    victim.sign_in(name, password)
    assert victim.client.cookies["campledger_session"] != "planted-by-someone-else"


# --- CSRF ----------------------------------------------------------------------------------


FORMS = {
    "/sign-out": {},
    "/language": {"locale": "fr"},
    "/password": {"current": CHOSEN, "new": "x" * 20, "confirm": "x" * 20},
}


@pytest.mark.parametrize("path", ["/sign-out", "/language", "/password"])
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    console: Console, path: str
) -> None:
    browser = console.signed_in()
    for token in (None, "", "wrong-token"):
        sent = dict(FORMS[path]) if token is None else {**FORMS[path], "csrf_token": token}
        response = browser.post(path, sent)
        assert response.status_code == 403, (token, response.text)
        assert "This form has expired" in response.text
    page = browser.get("/")
    assert page.status_code == 200 and 'lang="en"' in page.text  # still signed in, unchanged


def test_the_csrf_token_of_another_session_is_refused(console: Console) -> None:
    browser, other = console.signed_in(), console.signed_in()
    other.get("/language")
    response = browser.post("/language", {"locale": "ar", "csrf_token": other.csrf()})
    assert response.status_code == 403
    assert 'lang="en"' in browser.get("/").text


def test_an_htmx_request_may_send_the_token_in_a_header(console: Console) -> None:
    browser = console.signed_in()
    browser.get("/language")
    token = browser.csrf()
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in browser.page.text  # type: ignore[union-attr]
    response = browser.client.post(
        "/language", data={"locale": "fr"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 303


def test_the_sign_in_form_needs_the_token_set_with_it(console: Console) -> None:
    name, password = console.account()
    forged = console.browser().post("/sign-in", {"name": name, "password": password})
    assert forged.status_code == 403
    browser = console.browser()
    browser.get("/sign-in")
    other = console.browser()
    other.get("/sign-in")
    crossed = browser.post(
        "/sign-in", {"name": name, "password": password, "csrf_token": other.csrf()}
    )
    assert crossed.status_code == 403
    assert "campledger_session" not in crossed.headers.get("set-cookie", "")
