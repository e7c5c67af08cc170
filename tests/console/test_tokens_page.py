"""API tokens in the console, beside the accounts: an administrator's alone. A token is
created over the same service as ``campledger token create`` and shown once (no-store,
never in an address, a log or the list), held to the sites ticked; revoking asks first,
then the API refuses the token at once. Each bad input is refused beside its field and
writes nothing; so does a form without its CSRF token, or sent by any other role."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest

from campledger.api.services.accounts import create_account
from campledger.api.services.auth import Role, authenticate, create_token
from tests.api.conftest import PREFIX
from tests.console import test_people_pages
from tests.console.conftest import POLICY, Browser
from tests.console.test_people_pages import World, signed_in

# The same fixture: the API with its projector and the console, on one database.
world = test_people_pages.world

TOKEN = re.compile(r'id="api-token"[^>]*>([^<]+)<')
ANY_TOKEN = re.compile(r"cl_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")
TOKENS = "/accounts/tokens"


def admin(world: World, locale: str = "en") -> Browser:
    return signed_in(world, "admin", locale=locale)[0]


def send(browser: Browser, data: dict[str, Any]) -> httpx.Response:
    """The create form as drawn, filled in; a list is a field sent once a value."""
    browser.get(TOKENS)
    fields = {"role": "registrar", "scope": "all", **data}
    browser.page = browser.client.post(TOKENS, data={"csrf_token": browser.csrf(), **fields})
    return browser.page


def shown_token(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    assert found, "no token on the page"
    return found.group(1).strip()


def stored(world: World) -> list[Any]:
    """Every token, revoked or not: what the page's forms could change."""
    return world.console.conn.execute(
        "SELECT token_id, name, role, sites, secret_sha256, revoked_at FROM api_tokens "
        "ORDER BY token_id"
    ).fetchall()


def token_id(world: World, name: str) -> str:
    row = world.console.conn.execute(
        "SELECT token_id FROM api_tokens WHERE name = %s", (name,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def row(page: str, token: str) -> str:
    found = re.search(rf'<tr id="token-{token}">(.*?)</tr>', page, re.S)
    assert found, f"no row for token {token}"
    return found.group(1)


def error_at(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert found, f"no problem beside {field}"
    return found.group(1)


def sites_of(world: World, response: httpx.Response) -> int:
    return world.api.client.get(
        f"{PREFIX}/sites", headers={"Authorization": f"Bearer {shown_token(response)}"}
    ).status_code


def test_the_accounts_page_leads_to_the_tokens_which_are_listed_without_their_secret(
    world: World,
) -> None:
    secret = create_token(world.console.conn, name="partner feed", role="auditor", sites=["S-X"])
    browser = admin(world)
    assert f'href="{TOKENS}"' in browser.get("/accounts").text
    page = browser.get(TOKENS)
    assert page.status_code == 200
    listed = row(page.text, token_id(world, "partner feed"))
    assert "partner feed" in listed and "Auditor" in listed and "S-X" in listed
    assert 'data-status="live"' in listed and "/revoke" in listed
    assert secret.split("_", 2)[2] not in page.text and not ANY_TOKEN.search(page.text)
    # The navigation still says where one is: under Accounts, on its tokens tab.
    assert 'href="/accounts/tokens" aria-current="page"' in page.text


def test_a_token_is_created_shown_once_and_works_against_the_api_within_its_sites(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    code = world.api.open_site()
    world.api.wait()
    browser = admin(world)
    with caplog.at_level(logging.DEBUG):
        shown = send(browser, {"name": "tine tablet 1", "role": "registrar", "scope": "some",
                               "sites": [code]})  # fmt: skip
    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    token = shown_token(shown)
    assert ANY_TOKEN.fullmatch(token), token
    assert "<bdi>tine tablet 1</bdi> has been created" in shown.text
    assert "shown only this once" in shown.text
    assert all(token not in record.getMessage() for record in caplog.records)
    assert all(token.split("_", 2)[2] not in record.getMessage() for record in caplog.records)

    principal = authenticate(world.console.conn, token)
    assert principal is not None
    assert (principal.actor, principal.role, principal.sites) == (
        "tine tablet 1", Role.REGISTRAR, frozenset({code})
    )  # fmt: skip
    assert sites_of(world, shown) == 200

    listed = browser.get(TOKENS).text
    assert "tine tablet 1" in listed and token not in listed and not ANY_TOKEN.search(listed)


def test_revoking_asks_first_then_the_api_refuses_the_token(world: World) -> None:
    browser = admin(world)
    shown = send(browser, {"name": "lost tablet", "role": "admin"})
    assert sites_of(world, shown) == 200
    target = token_id(world, "lost tablet")
    browser.get(TOKENS)
    before = stored(world)

    asked = browser.submit(f"{TOKENS}/{target}/revoke")
    assert asked.status_code == 200
    assert "Revoke the token <bdi>lost tablet</bdi>?" in asked.text
    assert "refused from the moment you revoke it" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert stored(world) == before and sites_of(world, shown) == 200

    done = browser.submit(f"{TOKENS}/{target}/revoke", {"confirm": "yes"})
    assert done.status_code == 303
    page = browser.get(done.headers["location"])
    assert "<bdi>lost tablet</bdi> is revoked" in page.text
    revoked = row(page.text, target)
    assert 'data-status="revoked"' in revoked and "/revoke" not in revoked
    refused = world.api.client.get(
        f"{PREFIX}/sites", headers={"Authorization": f"Bearer {shown_token(shown)}"}
    )
    assert refused.status_code == 401

    # Sent again, it answers the same and changes nothing (its time of revoking stays).
    after = stored(world)
    browser.get(TOKENS)
    again = browser.submit(f"{TOKENS}/{target}/revoke", {"confirm": "yes"})
    assert again.status_code == 303 and stored(world) == after


def test_a_confirmation_names_only_a_token_that_is_revoked(world: World) -> None:
    create_token(world.console.conn, name="still live", role="auditor")
    browser = admin(world)
    for token in ("nobody", token_id(world, "still live")):
        page = browser.get(TOKENS, params={"done": "revoked", "token": token})
        assert page.status_code == 200 and "is revoked:" not in page.text


@pytest.mark.parametrize("unknown", ["000000000000", "x" * 64])
def test_revoking_an_unknown_token_is_not_found_and_nothing_is_written(
    world: World, unknown: str
) -> None:
    browser = admin(world)
    browser.get(TOKENS)
    before = stored(world)
    missing = browser.submit(f"{TOKENS}/{unknown}/revoke", {"confirm": "yes"})
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert stored(world) == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Fill in this field."),
        ({"name": "x" * 101}, "name", "Use at most 100 characters"),
        ({"role": ""}, "role", "Choose one of the roles."),
        ({"role": "chief"}, "role", "Choose one of the roles."),
        ({"scope": ""}, "sites", "Choose all sites, or only the sites you tick."),
        ({"scope": "some"}, "sites", "Tick at least one site, or choose all sites."),
        ({"scope": "some", "sites": ["NOWHERE"]}, "sites", "There is no site NOWHERE"),
        ({"scope": "all", "sites": ["NOWHERE"]}, "sites", "You chose all sites and ticked"),
    ],
    ids=["empty-name", "long-name", "no-role", "unknown-role", "no-scope", "no-site-ticked",
         "unknown-site", "ticked-under-all"],
)  # fmt: skip
def test_each_bad_input_is_refused_beside_its_field_and_nothing_is_written(
    world: World, data: dict[str, Any], field: str, message: str
) -> None:
    browser = admin(world)
    before = stored(world)
    refused = send(browser, {"name": "refused tablet", **data})
    assert refused.status_code == 400
    assert message in error_at(refused.text, field)
    assert f'href="#{field}"' in refused.text and 'role="alert"' in refused.text
    assert not ANY_TOKEN.search(refused.text)
    assert stored(world) == before


def test_a_token_is_refused_the_name_of_a_persons_account(world: World) -> None:
    create_account(
        world.console.conn, name="Halima Adam", role="registrar", now=world.console.clock(),
        policy=POLICY,
    )  # fmt: skip
    browser = admin(world)
    before = stored(world)
    for same in ("Halima Adam", "halima  ADAM", "Ｈａｌｉｍａ Adam"):
        refused = send(browser, {"name": same})
        assert refused.status_code == 400
        assert "account has this name" in error_at(refused.text, "name"), same
    assert stored(world) == before


def test_the_same_form_sent_twice_creates_one_token_and_shows_it_once(world: World) -> None:
    browser = admin(world)
    browser.get(TOKENS)
    data = {"csrf_token": browser.csrf(), "name": "gate scanner", "role": "registrar",
            "scope": "all"}  # fmt: skip
    first = browser.client.post(TOKENS, data=data)
    assert first.status_code == 200 and TOKEN.search(first.text)
    before = stored(world)

    again = browser.client.post(TOKENS, data=data)
    assert again.status_code == 400 and not ANY_TOKEN.search(again.text)
    assert "A token with this name already exists" in error_at(again.text, "name")
    assert stored(world) == before


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(
    world: World, token: str | None
) -> None:
    create_token(world.console.conn, name=f"csrf target {token}", role="auditor")
    target = token_id(world, f"csrf target {token}")
    browser = admin(world)
    browser.get(TOKENS)
    before = stored(world)
    extra = {} if token is None else {"csrf_token": token}
    for path, data in (
        (TOKENS, {"name": "forged tablet", "role": "admin", "scope": "all"}),
        (f"{TOKENS}/{target}/revoke", {"confirm": "yes"}),
    ):
        refused = browser.client.post(path, data={**extra, **data})
        assert refused.status_code == 403 and "This form has expired" in refused.text, path
        assert not ANY_TOKEN.search(refused.text)
    assert stored(world) == before


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.ADMIN], ids=str)
def test_every_other_role_finds_no_tokens_page_and_its_forms_are_refused(
    world: World, role: Role
) -> None:
    name = f"out of reach {role}"
    create_token(world.console.conn, name=name, role="auditor")
    target = token_id(world, name)
    browser, _ = signed_in(world, role.value)
    assert browser.get(TOKENS).status_code == 403
    before = stored(world)
    for path, data in (
        (TOKENS, {"name": f"{role} made this", "role": "admin", "scope": "all"}),
        (f"{TOKENS}/{target}/revoke", {"confirm": "yes"}),
        (f"{TOKENS}/{target}/revoke", {}),
    ):
        browser.get("/")
        refused = browser.submit(path, data)
        assert refused.status_code == 403, path
        assert "You may not open this page" in refused.text
        assert not ANY_TOKEN.search(refused.text)
    assert stored(world) == before
