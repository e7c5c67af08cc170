"""Creating a person's account from the console: the same service as ``campledger user
create``, its one-time password shown once (no-store, never in an address nor a log), held
to the sites ticked; each refusal beside its field, in the reader's language, writing
nothing; a form sent twice creates one account and shows one password."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest

from campledger.api.services.accounts import find_account
from campledger.api.services.auth import create_token
from tests.console import test_people_pages
from tests.console.conftest import CHOSEN, Browser
from tests.console.test_people_pages import World, signed_in

# The same fixture: the API with its projector and the console, on one database.
world = test_people_pages.world

ONE_TIME = re.compile(r'id="one-time-password"[^>]*>([^<]+)<')
SECRETS = re.compile(r"cl_[0-9a-f]{12}_\S+|[a-z0-9]{4}(?:-[a-z0-9]{4}){3}")


def admin(world: World, locale: str = "en") -> Browser:
    return signed_in(world, "admin", locale=locale)[0]


def send(browser: Browser, data: dict[str, Any]) -> httpx.Response:
    """The form as drawn, filled in; a list is a field sent once a value (ticked boxes)."""
    browser.get("/accounts/new")
    fields = {"role": "registrar", "scope": "all", "locale": "en", **data}
    browser.page = browser.client.post(
        "/accounts/new", data={"csrf_token": browser.csrf(), **fields}
    )
    return browser.page


def stored(world: World) -> tuple[list[Any], ...]:
    """Everything creating an account could write: accounts, tokens, sign-in counts."""
    return tuple(
        world.console.conn.execute(query).fetchall()
        for query in (
            "SELECT account_id, name, role, sites, locale, password_hash FROM accounts "
            "ORDER BY account_id",
            "SELECT token_id, name FROM api_tokens ORDER BY token_id",
            "SELECT name_digest, failures FROM sign_in_attempts ORDER BY name_digest",
        )
    )


def error_at(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert found, f"no problem beside {field}"
    return found.group(1)


def test_the_accounts_page_leads_to_the_form_and_the_form_offers_each_role_and_site(
    world: World,
) -> None:
    code = world.api.open_site()
    world.api.wait()
    browser = admin(world)
    assert 'href="/accounts/new"' in browser.get("/accounts").text
    form = browser.get("/accounts/new")
    assert form.status_code == 200
    for role in ("registrar", "screener", "transfer_officer", "site_manager", "auditor",
                 "admin", "monitor"):  # fmt: skip
        assert f'name="role" value="{role}"' in form.text
    assert f'name="sites" value="{code}"' in form.text
    assert 'name="scope" value="all"' in form.text and 'name="scope" value="some"' in form.text
    for locale in ("en", "ar", "fr"):
        assert f'<option value="{locale}" lang="{locale}"' in form.text
    # Neither role nor sites is chosen for the administrator: both are asked for.
    assert " checked" not in form.text


def test_an_account_is_created_held_to_its_sites_and_its_password_is_shown_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = world.api.open_site(), world.api.open_site()
    world.api.wait()
    browser = admin(world)
    with caplog.at_level(logging.DEBUG):
        shown = send(browser, {"name": "Amina  Haroun", "role": "screener", "scope": "some",
                               "sites": [first, second], "locale": "ar"})  # fmt: skip
    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    found = ONE_TIME.search(shown.text)
    assert found, "no one-time password on the page"
    password = found.group(1).strip()
    assert "<bdi>Amina Haroun</bdi> has been created" in shown.text
    assert "shown only this once" in shown.text and "Screener" in shown.text
    assert all(password not in record.getMessage() for record in caplog.records)

    account = find_account(world.console.conn, "amina haroun")
    assert account is not None
    assert (account.name, account.role.value, account.locale) == ("Amina Haroun", "screener", "ar")
    assert account.sites == tuple(sorted((first, second)))
    assert account.must_change_password

    listed = browser.get("/accounts").text
    assert f'id="account-{account.account_id}"' in listed and password not in listed

    # The person signs in with it and must choose their own.
    person = world.console.browser()
    assert person.sign_in("Amina Haroun", password).headers["location"] == "/password"
    person.get("/password")
    changed = person.submit("/password", {"current": password, "new": CHOSEN, "confirm": CHOSEN})
    assert changed.status_code == 303


def test_all_sites_makes_an_account_of_every_site(world: World) -> None:
    browser = admin(world)
    shown = send(browser, {"name": "Idriss Mahamat", "role": "auditor", "scope": "all"})
    assert shown.status_code == 200 and ONE_TIME.search(shown.text)
    account = find_account(world.console.conn, "Idriss Mahamat")
    assert account is not None and account.sites == () and account.locale == "en"


def test_the_same_form_sent_twice_creates_one_account_and_shows_one_password(
    world: World,
) -> None:
    browser = admin(world)
    browser.get("/accounts/new")
    token = browser.csrf()
    data = {"csrf_token": token, "name": "Zahra Ali", "role": "registrar", "scope": "all",
            "locale": "fr"}  # fmt: skip
    first = browser.client.post("/accounts/new", data=data)
    assert first.status_code == 200 and ONE_TIME.search(first.text)
    before = stored(world)

    again = browser.client.post("/accounts/new", data=data)
    assert again.status_code == 400
    assert ONE_TIME.search(again.text) is None and not SECRETS.search(again.text)
    assert "already exists" in error_at(again.text, "name")
    assert "If you sent this form twice, the first created it" in again.text
    assert stored(world) == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Fill in this field."),
        ({"name": "x" * 101}, "name", "Use at most 100 characters"),
        ({"name": "Halima\u200bAdam"}, "name", "Use at most 100 characters"),
        ({"role": ""}, "role", "Choose one of the roles."),
        ({"role": "chief"}, "role", "Choose one of the roles."),
        ({"locale": "de"}, "locale", "Choose one of the languages."),
        ({"scope": ""}, "sites", "Choose all sites, or only the sites you tick."),
        ({"scope": "some"}, "sites", "Tick at least one site, or choose all sites."),
        ({"scope": "some", "sites": ["NOWHERE"]}, "sites", "There is no site NOWHERE"),
    ],
    ids=["empty-name", "long-name", "unprintable-name", "no-role", "unknown-role",
         "unknown-language", "no-scope", "no-site-ticked", "unknown-site"],
)  # fmt: skip
def test_each_bad_input_is_refused_beside_its_field_and_nothing_is_written(
    world: World, data: dict[str, Any], field: str, message: str
) -> None:
    browser = admin(world)
    before = stored(world)
    refused = send(browser, {"name": "Refused Person", **data})
    assert refused.status_code == 400
    assert message in error_at(refused.text, field)
    assert f'href="#{field}"' in refused.text and 'role="alert"' in refused.text
    assert ONE_TIME.search(refused.text) is None
    assert stored(world) == before
    # What was typed is kept, to correct rather than type again.
    if data.get("name", "Refused Person") == "Refused Person":
        assert 'value="Refused Person"' in refused.text


def test_sites_ticked_under_all_sites_are_refused_rather_than_widened(world: World) -> None:
    code = world.api.open_site()
    world.api.wait()
    browser = admin(world)
    before = stored(world)
    refused = send(browser, {"name": "Wide Scope", "scope": "all", "sites": [code]})
    assert refused.status_code == 400
    assert "You chose all sites and ticked some" in error_at(refused.text, "sites")
    assert f'value="{code}" checked' in refused.text
    assert stored(world) == before


def test_an_account_is_refused_the_name_of_an_api_token(world: World) -> None:
    create_token(world.console.conn, name="Field Tablet 7", role="registrar")
    browser = admin(world)
    before = stored(world)
    for same in ("Field Tablet 7", "field  tablet 7", "ＦＩＥＬＤ tablet 7"):
        refused = send(browser, {"name": same})
        assert refused.status_code == 400
        assert "An API token has this name" in error_at(refused.text, "name"), same
    assert stored(world) == before


def test_a_refusal_is_in_the_readers_language(world: World) -> None:
    browser = admin(world, locale="ar")
    before = stored(world)
    empty = send(browser, {"name": ""})
    assert empty.status_code == 400 and 'dir="rtl"' in empty.text
    assert error_at(empty.text, "name") == "املأ هذا الحقل."
    assert "توجد مشكلة" in empty.text
    # Refused by the service, as the command line is: the words are still the reader's.
    unknown = send(browser, {"name": "Langue Inconnue", "locale": "de"})
    assert unknown.status_code == 400
    assert error_at(unknown.text, "locale") == "اختر إحدى اللغات."
    assert stored(world) == before
