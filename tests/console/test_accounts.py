"""Accounts for people, through the service alone, on a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from campledger.api.services.accounts import (
    STATUSES,
    AccountError,
    create_account,
    disable_account,
    enable_account,
    find_account,
    list_accounts,
    reset_account,
    set_locale,
)
from campledger.api.services.auth import Permission, Role, create_token
from campledger.api.services.sign_in import Outcome, sign_in
from tests.console.clock import Clock
from tests.console.conftest import POLICY

Conn = psycopg.Connection[Any]


def test_an_account_stands_for_the_same_principal_as_a_token_of_its_role_and_sites(
    conn: Conn, clock: Clock
) -> None:
    issued = create_account(
        conn, name="Amina Haroun", role="registrar", sites=["TIN-RC", "TIN-RC", "GOZ"],
        now=clock(), policy=POLICY,
    )  # fmt: skip
    principal = issued.account.principal
    assert principal.actor == "Amina Haroun"
    assert principal.role is Role.REGISTRAR
    assert principal.sites == {"TIN-RC", "GOZ"}
    assert principal.can(Permission.ARRIVALS_WRITE) and not principal.can(Permission.AUDIT_READ)
    assert principal.covers("GOZ") and not principal.covers("ABE-HF")


def test_only_the_argon2id_hash_of_the_one_time_password_is_stored(
    conn: Conn, clock: Clock
) -> None:
    issued = create_account(conn, name="amina", role="screener", now=clock(), policy=POLICY)
    rows = conn.execute("SELECT * FROM accounts").fetchall()
    stored = " ".join(str(value) for value in rows[0])
    assert issued.one_time_password not in stored
    (hashed,) = conn.execute("SELECT password_hash FROM accounts").fetchone() or ("",)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_one_time_passwords_are_long_random_and_easy_to_copy(conn: Conn, clock: Clock) -> None:
    passwords = {
        create_account(
            conn, name=f"p{i}", role="auditor", now=clock(), policy=POLICY
        ).one_time_password
        for i in range(3)
    }
    assert len(passwords) == 3
    for password in passwords:
        assert len(password.replace("-", "")) == 16
        assert not set(password) & set("0O1lI5S2Z")


def test_names_are_one_account_whatever_their_case_width_or_spacing(
    conn: Conn, clock: Clock
) -> None:
    create_account(conn, name="Amina  Haroun", role="registrar", now=clock(), policy=POLICY)
    for same in ("amina haroun", " AMINA HAROUN ", "Ａｍｉｎａ Haroun"):
        with pytest.raises(AccountError, match="already exists"):
            create_account(conn, name=same, role="registrar", now=clock(), policy=POLICY)
        found = find_account(conn, same)
        assert found is not None and found.name == "Amina Haroun"


def test_an_account_cannot_take_the_name_of_an_api_token(conn: Conn, clock: Clock) -> None:
    create_token(conn, name="field-app", role="registrar")
    with pytest.raises(AccountError, match="token"):
        create_account(conn, name="Field-App", role="registrar", now=clock(), policy=POLICY)


@pytest.mark.parametrize(
    ("name", "role", "locale"),
    [("", "admin", "en"), ("x" * 101, "admin", "en"), ("a\x00b", "admin", "en"),
     ("ok", "chief", "en"), ("ok", "admin", "de")],
)  # fmt: skip
def test_a_bad_name_role_or_language_is_refused(
    conn: Conn, clock: Clock, name: str, role: str, locale: str
) -> None:
    with pytest.raises(ValueError):
        create_account(conn, name=name, role=role, locale=locale, now=clock(), policy=POLICY)
    assert list_accounts(conn) == []


def test_the_list_shows_each_accounts_state(conn: Conn, clock: Clock) -> None:
    for name in ("new", "active", "disabled"):
        create_account(conn, name=name, role="auditor", now=clock(), policy=POLICY)
    conn.execute("UPDATE accounts SET must_change_password = false WHERE name = 'active'")
    disable_account(conn, "disabled", now=clock())
    states = {account.name: account.status for account in list_accounts(conn)}
    assert states == {"active": "active", "disabled": "disabled", "new": "one-time password"}


def test_a_one_time_password_past_its_expiry_shows_as_expired_until_a_reset(
    conn: Conn, clock: Clock
) -> None:
    create_account(conn, name="late", role="registrar", now=clock(), policy=POLICY)
    expiry = POLICY.one_time_password_lifetime
    (account,) = list_accounts(conn)
    assert account.status_at(clock() + expiry - timedelta(seconds=1)) == "one-time password"
    assert account.status_at(clock() + expiry) == "one-time password expired"
    assert account.status == "one-time password"  # the stored state, without a clock

    reset_account(conn, "late", now=clock() + expiry, policy=POLICY)
    (account,) = list_accounts(conn)
    assert account.status_at(clock() + expiry) == "one-time password"
    assert {account.status_at(clock()) for account in list_accounts(conn)} <= set(STATUSES)


def test_a_disabled_account_cannot_sign_in_until_enabled(conn: Conn, clock: Clock) -> None:
    issued = create_account(conn, name="amina", role="registrar", now=clock(), policy=POLICY)
    disable_account(conn, "amina", now=clock())
    refused = sign_in(conn, "amina", issued.one_time_password, now=clock(), policy=POLICY)
    assert refused.outcome is Outcome.DISABLED
    enable_account(conn, "amina")
    allowed = sign_in(conn, "amina", issued.one_time_password, now=clock(), policy=POLICY)
    assert allowed.outcome is Outcome.SIGNED_IN


def test_a_reset_issues_a_new_one_time_password_and_the_old_password_stops_working(
    conn: Conn, clock: Clock
) -> None:
    first = create_account(conn, name="amina", role="registrar", now=clock(), policy=POLICY)
    second = reset_account(conn, "amina", now=clock(), policy=POLICY)
    assert second.one_time_password != first.one_time_password
    old = sign_in(conn, "amina", first.one_time_password, now=clock(), policy=POLICY)
    new = sign_in(conn, "amina", second.one_time_password, now=clock(), policy=POLICY)
    assert (old.outcome, new.outcome) == (Outcome.REFUSED, Outcome.SIGNED_IN)
    assert new.account is not None and new.account.must_change_password


def test_admin_commands_on_an_unknown_account_say_so(conn: Conn, clock: Clock) -> None:
    for act in (
        lambda: disable_account(conn, "nobody", now=clock()),
        lambda: enable_account(conn, "nobody"),
        lambda: reset_account(conn, "nobody", now=clock(), policy=POLICY),
    ):
        with pytest.raises(AccountError, match="no account named"):
            act()


def test_the_language_is_kept_with_the_account(conn: Conn, clock: Clock) -> None:
    issued = create_account(
        conn, name="amina", role="registrar", locale="ar", now=clock(), policy=POLICY
    )
    assert issued.account.locale == "ar"
    set_locale(conn, issued.account.account_id, "fr")
    found = find_account(conn, "amina")
    assert found is not None and found.locale == "fr"
    with pytest.raises(AccountError):
        set_locale(conn, issued.account.account_id, "xx")
