"""The accounts page through the ASGI app: an administrator's alone, every account with
its status, and disable, enable and reset doing what ``campledger user`` does (sessions
ended, a one-time password shown once); a form without its token, on one's own account or
on an account that does not exist changes nothing. Creating an account, with the sites of
an operation, is ``test_account_creation.py``; API tokens ``test_tokens_page.py``."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest

from campledger.api.services.accounts import create_account, find_account
from campledger.api.services.auth import Role
from campledger.api.services.sign_in import sign_in
from tests.console.conftest import CHOSEN, POLICY, Browser, Console

NAVIGATION = re.compile(r'<nav class="nav"[^>]*>(.*?)</nav>', re.S)
ONE_TIME = re.compile(r'id="one-time-password"[^>]*>([^<]+)<')
ACTIONS = ("disable", "enable", "reset")
# What creating an account sends, filled in as an administrator would.
NEW_ACCOUNT = {"name": "Amina Haroun", "role": "admin", "scope": "all", "locale": "en"}


def account_id(console: Console, name: str) -> str:
    found = find_account(console.conn, name)
    assert found is not None
    return found.account_id


def admin(console: Console, locale: str = "en") -> tuple[Browser, str]:
    name, password = console.account("admin", locale=locale)
    browser = console.browser()
    assert browser.sign_in(name, password).status_code == 303
    return browser, name


def row(page: str, account: str) -> str:
    found = re.search(rf'<tr id="account-{account}">(.*?)</tr>', page, re.S)
    assert found, f"no row for account {account}"
    return found.group(1)


def status(page: str, account: str) -> str:
    found = re.search(r'data-status="([^"]+)"', row(page, account))
    assert found
    return found.group(1)


def stored(console: Console) -> tuple[list[Any], ...]:
    """Everything a form of the page could change: accounts, sessions, sign-in counts."""
    return tuple(
        console.conn.execute(query).fetchall()
        for query in (
            "SELECT account_id, password_hash, must_change_password, password_expires_at, "
            "disabled_at, locale FROM accounts ORDER BY account_id",
            "SELECT token_sha256, account_id FROM account_sessions ORDER BY token_sha256",
            "SELECT name_digest, failures, locked_at FROM sign_in_attempts ORDER BY name_digest",
        )
    )


def test_an_administrator_sees_every_account_with_its_status(console: Console) -> None:
    active, _ = console.account("registrar", sites=["TIN-RC", "GOZ"], locale="ar")
    new, _ = console.account("screener", chosen=False)
    disabled, _ = console.account("auditor")
    locked, _ = console.account("site_manager")
    for attempt in range(POLICY.lock_after_failures):
        when = console.clock() + timedelta(minutes=attempt)
        sign_in(console.conn, locked, "not the password", now=when, policy=POLICY)
    late = create_account(
        console.conn, name="late-to-sign-in", role="transfer_officer",
        now=console.clock() - POLICY.one_time_password_lifetime, policy=POLICY,
    ).account  # fmt: skip
    browser, me = admin(console)
    browser.get("/accounts")
    browser.submit(f"/accounts/{account_id(console, disabled)}/disable")

    page = browser.get("/accounts")
    assert page.status_code == 200
    navigation = NAVIGATION.search(page.text)
    assert navigation and 'href="/accounts" aria-current="page"' in navigation.group(1)
    assert {
        name: status(page.text, account_id(console, name))
        for name in (active, new, disabled, locked, late.name, me)
    } == {
        active: "active",
        new: "one-time password",
        disabled: "disabled",
        locked: "locked",
        late.name: "one-time password expired",
        me: "active",
    }
    registrar = row(page.text, account_id(console, active))
    assert "Registrar" in registrar and "TIN-RC" in registrar and "GOZ" in registrar
    assert "العربية" in registrar and "2026" in registrar
    assert "All sites" in row(page.text, account_id(console, new))
    assert "Must change password" in row(page.text, account_id(console, new))
    assert "One-time password expired" in row(page.text, late.account_id)
    # Each account has its forms, but the administrator's own has none to sign them out.
    assert "/disable" in registrar and "/reset" in registrar and "/enable" not in registrar
    off = row(page.text, account_id(console, disabled))
    assert "/enable" in off and "/disable" not in off
    mine = row(page.text, account_id(console, me))
    assert "Your account" in mine and "<form" not in mine
    # Every form carries the session's CSRF token.
    assert (
        page.text.count('method="post" action="/accounts/')
        == page.text.count('name="csrf_token"') - 1
    )  # the sign-out form


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.ADMIN], ids=str)
def test_every_other_role_finds_no_accounts_page_and_its_forms_are_refused(
    console: Console, role: Role
) -> None:
    target, _ = console.account()
    target_id = account_id(console, target)
    browser = console.signed_in(role.value)

    home = browser.get("/")
    assert 'href="/accounts"' not in home.text
    assert browser.get("/accounts").status_code == 403
    assert browser.get("/accounts/new").status_code == 403
    before = stored(console)
    for action in ACTIONS:
        browser.get("/")
        refused = browser.submit(f"/accounts/{target_id}/{action}")
        assert refused.status_code == 403, action
        assert "You may not open this page" in refused.text
    browser.get("/")
    created = browser.submit("/accounts/new", NEW_ACCOUNT)
    assert created.status_code == 403 and "You may not open this page" in created.text
    assert ONE_TIME.search(created.text) is None
    assert stored(console) == before


def test_disabling_ends_the_accounts_sessions_and_it_cannot_sign_in_until_enabled(
    console: Console,
) -> None:
    target, password = console.account("screener")
    elsewhere = console.browser()
    elsewhere.sign_in(target, password)
    assert elsewhere.get("/").status_code == 200
    browser, _ = admin(console)

    browser.get("/accounts")
    done = browser.submit(f"/accounts/{account_id(console, target)}/disable")
    assert done.status_code == 303
    page = browser.get(done.headers["location"])
    assert (
        f"<bdi>{target}</bdi> is disabled" in page.text and "its sessions have ended" in page.text
    )
    assert status(page.text, account_id(console, target)) == "disabled"

    assert elsewhere.get("/").headers["location"].startswith("/sign-in")
    assert "This account is disabled" in console.browser().sign_in(target, password).text

    enabled = browser.submit(f"/accounts/{account_id(console, target)}/enable")
    assert f"<bdi>{target}</bdi> is enabled" in browser.get(enabled.headers["location"]).text
    assert console.browser().sign_in(target, password).headers["location"] == "/"


def test_a_name_is_shown_as_text_in_the_list_and_the_confirmation(console: Console) -> None:
    marked = create_account(
        console.conn, name="Amina <i>Haroun</i>", role="registrar", now=console.clock(),
        policy=POLICY,
    ).account  # fmt: skip
    browser, _ = admin(console)
    browser.get("/accounts")
    done = browser.submit(f"/accounts/{marked.account_id}/disable")
    page = browser.get(done.headers["location"]).text
    assert "<i>Haroun" not in page
    assert "<bdi>Amina &lt;i&gt;Haroun&lt;/i&gt;</bdi> is disabled" in page


def test_a_reset_shows_a_one_time_password_once_that_signs_in_and_must_be_changed(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    target, password = console.account("registrar")
    elsewhere = console.browser()
    elsewhere.sign_in(target, password)
    browser, _ = admin(console)
    browser.get("/accounts")

    with caplog.at_level(logging.DEBUG):
        shown = browser.submit(f"/accounts/{account_id(console, target)}/reset")
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    found = ONE_TIME.search(shown.text)
    assert found, "no one-time password on the page"
    one_time = found.group(1).strip()
    assert re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", one_time), one_time
    assert target in shown.text and "shown only this once" in shown.text
    assert all(one_time not in record.getMessage() for record in caplog.records)

    # Once: the list does not show it, and nothing but that page ever did.
    listed = browser.get("/accounts")
    assert one_time not in listed.text
    assert status(listed.text, account_id(console, target)) == "one-time password"

    assert elsewhere.get("/").headers["location"].startswith("/sign-in")
    assert console.browser().sign_in(target, password).status_code == 401
    person = console.browser()
    assert person.sign_in(target, one_time).headers["location"] == "/password"
    assert person.get("/").headers["location"] == "/password"
    person.get("/password")
    changed = person.submit("/password", {"current": one_time, "new": CHOSEN, "confirm": CHOSEN})
    assert changed.headers["location"] == "/?done=password-changed"
    assert person.get("/").status_code == 200


def test_a_reset_of_a_disabled_account_says_it_is_still_disabled(console: Console) -> None:
    target, _ = console.account()
    browser, _ = admin(console)
    browser.get("/accounts")
    browser.submit(f"/accounts/{account_id(console, target)}/disable")
    browser.get("/accounts")
    shown = browser.submit(f"/accounts/{account_id(console, target)}/reset")
    assert "still disabled" in shown.text


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("token", [None, "forged"])
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    console: Console, action: str, token: str | None
) -> None:
    target, password = console.account()
    elsewhere = console.browser()
    elsewhere.sign_in(target, password)
    browser, _ = admin(console)
    browser.get("/accounts")
    before = stored(console)

    data = {} if token is None else {"csrf_token": token}
    refused = browser.post(f"/accounts/{account_id(console, target)}/{action}", data)
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert stored(console) == before
    assert elsewhere.get("/").status_code == 200


@pytest.mark.parametrize("token", [None, "forged"])
def test_creating_an_account_without_the_csrf_token_is_refused_and_creates_nothing(
    console: Console, token: str | None
) -> None:
    browser, _ = admin(console)
    assert browser.get("/accounts/new").status_code == 200
    before = stored(console)
    data = {**NEW_ACCOUNT, **({} if token is None else {"csrf_token": token})}
    refused = browser.post("/accounts/new", data)
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert ONE_TIME.search(refused.text) is None
    assert stored(console) == before


@pytest.mark.parametrize(
    ("action", "message"),
    [("disable", "You cannot disable your own account"), ("reset", "You cannot reset your own")],
)
def test_an_administrator_cannot_disable_or_reset_their_own_account(
    console: Console, action: str, message: str
) -> None:
    browser, me = admin(console)
    browser.get("/accounts")
    before = stored(console)

    refused = browser.submit(f"/accounts/{account_id(console, me)}/{action}")
    assert refused.status_code == 409
    assert message in refused.text and 'role="alert"' in refused.text
    assert ONE_TIME.search(refused.text) is None
    assert stored(console) == before
    assert browser.get("/accounts").status_code == 200  # still signed in


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("unknown", ["000000000000", "x" * 64])
def test_an_unknown_account_is_not_found_and_nothing_is_written(
    console: Console, action: str, unknown: str
) -> None:
    browser, _ = admin(console)
    browser.get("/accounts")
    before = stored(console)
    missing = browser.submit(f"/accounts/{unknown}/{action}")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert stored(console) == before


def test_a_confirmation_names_only_an_account_that_exists(console: Console) -> None:
    browser, _ = admin(console)
    page = browser.get("/accounts", params={"done": "disabled", "account": "nobody"})
    assert page.status_code == 200 and "is disabled:" not in page.text
    assert 'role="status"' not in page.text


@pytest.mark.parametrize(
    ("locale", "title", "status_word"), [("ar", "الحسابات", "نشط"), ("fr", "Comptes", "Actif")]
)
def test_the_page_in_arabic_and_french(
    console: Console, locale: str, title: str, status_word: str
) -> None:
    browser, _ = admin(console, locale=locale)
    page = browser.get("/accounts").text
    assert title in page and status_word in page
    assert ('dir="rtl"' in page) is (locale == "ar")
