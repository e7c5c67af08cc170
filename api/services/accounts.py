"""Accounts for people, beside the API tokens for machines.

An account has the same ``Role`` and site scope as a token, and stands for the same
``Principal`` once signed in, so a role means one thing whichever way in a person uses;
the actor recorded on the events a person's commands write is the account's name.

An administrator creates an account and hands its one-time password to the person, who
must replace it at first sign-in; a reset issues a new one. Disabling an account or
resetting it ends its sessions at once. Signing in is ``sign_in.py``; sessions are
``sessions.py``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from campledger.api.database.accounts import (
    ACCOUNTS,
    ATTEMPTS,
    SESSIONS,
    create_account_tables,
)
from campledger.api.services.actor_names import MAX_NAME_LENGTH, Refused, name_key
from campledger.api.services.auth import Principal, Role, token_named
from campledger.api.services.passwords import hash_password, one_time_password
from campledger.api.settings import Settings

# The console's languages; an account's locale is one of them (English by default).
LOCALES = ("en", "ar", "fr")
DEFAULT_LOCALE = "en"
# What ``Account.status_at`` answers, in the order a list of accounts explains them.
STATUSES = ("active", "one-time password", "one-time password expired", "locked", "disabled")

ACCOUNT_COLUMNS = (
    "a.account_id, a.name, a.role, a.sites, a.locale, a.must_change_password, "
    "a.password_expires_at, a.created_at, a.disabled_at, t.locked_at"
)
# The lock lives with the failures counted against the name (sign_in.py).
ACCOUNT_FROM = f"{ACCOUNTS} a LEFT JOIN {ATTEMPTS} t ON t.name_digest = a.name_digest"


@dataclass(frozen=True)
class AccountPolicy:
    """How long one-time passwords and sessions last, and when failures lock an account."""

    one_time_password_lifetime: timedelta = timedelta(hours=72)
    session_idle: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    lock_after_failures: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountPolicy:
        return cls(
            one_time_password_lifetime=timedelta(hours=settings.one_time_password_hours),
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            session_lifetime=timedelta(hours=settings.session_hours),
            lock_after_failures=settings.sign_in_lock_after_failures,
        )


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    role: Role
    sites: tuple[str, ...]
    locale: str
    must_change_password: bool
    password_expires_at: datetime | None
    created_at: datetime
    disabled_at: datetime | None
    locked_at: datetime | None

    @property
    def principal(self) -> Principal:
        """Who this account acts as: the same role and scope checks as a token's."""
        return Principal(
            token_id=f"account:{self.account_id}",
            name=self.name,
            role=self.role,
            sites=frozenset(self.sites),
        )

    @property
    def status(self) -> str:
        if self.disabled_at is not None:
            return "disabled"
        if self.locked_at is not None:
            return "locked"
        if self.must_change_password:
            return "one-time password"
        return "active"

    def status_at(self, now: datetime) -> str:
        """The status as sign-in would find it at ``now``: a one-time password past its
        expiry signs nobody in, and only a reset helps."""
        expires = self.password_expires_at
        if self.status == "one-time password" and expires is not None and now >= expires:
            return "one-time password expired"
        return self.status


@dataclass(frozen=True)
class Issued:
    """An account and the one-time password just issued for it (shown once, never stored)."""

    account: Account
    one_time_password: str


class AccountError(Refused):
    """A request about accounts that cannot be carried out; the message says why."""


def name_digest(name: str) -> str:
    """The key under which failed sign-ins are counted, for any name tried."""
    return hashlib.sha256(name_key(name).encode()).hexdigest()


def create_account(
    conn: psycopg.Connection[Any],
    *,
    name: str,
    role: Role | str,
    sites: Sequence[str] = (),
    locale: str = DEFAULT_LOCALE,
    now: datetime,
    policy: AccountPolicy,
) -> Issued:
    """Create an account with a one-time password, returned once."""
    name = re.sub(r"\s+", " ", name).strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise AccountError(
            f"an account needs a name of 1 to {MAX_NAME_LENGTH} characters", "bad-name"
        )
    try:
        checked_role = Role(role)
    except ValueError:
        raise AccountError(f"there is no role {role!r}", "unknown-role") from None
    _check_locale(locale)
    create_account_tables(conn)
    # A token and an account with one name would record the same actor on events: the
    # audit log could not tell a person from a machine.
    if token_named(conn, name):
        raise AccountError(
            f"an API token is already named {name!r}: the audit trail could not tell the "
            "person's actions from the token's; choose another name",
            "token-name",
        )
    password = one_time_password()
    account_id = secrets.token_hex(6)
    try:
        with conn.transaction():
            conn.execute(
                f"INSERT INTO {ACCOUNTS} (account_id, name, name_key, name_digest, role, sites, "
                "locale, password_hash, must_change_password, password_expires_at, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true, %s, %s)",
                (
                    account_id, name, name_key(name), name_digest(name), checked_role.value,
                    sorted(set(sites)), locale, hash_password(password),
                    now + policy.one_time_password_lifetime, now,
                ),
            )  # fmt: skip
            # Failures counted against this name before it was an account are not its own.
            conn.execute(f"DELETE FROM {ATTEMPTS} WHERE name_digest = %s", (name_digest(name),))
    except psycopg.errors.UniqueViolation:
        raise AccountError(f"an account named {name!r} already exists", "name-taken") from None
    account = get_account(conn, account_id)
    assert account is not None
    return Issued(account=account, one_time_password=password)


def get_account(conn: psycopg.Connection[Any], account_id: str) -> Account | None:
    return _one(conn, "a.account_id = %s", account_id)


def find_account(conn: psycopg.Connection[Any], name: str) -> Account | None:
    """The account a name stands for, however it is cased or spaced."""
    return _one(conn, "a.name_key = %s", name_key(name))


def list_accounts(conn: psycopg.Connection[Any]) -> list[Account]:
    create_account_tables(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNT_FROM} ORDER BY a.name_key"
        ).fetchall()
    return [account_from_row(row) for row in rows]


def disable_account(conn: psycopg.Connection[Any], name: str, *, now: datetime) -> Account:
    """Disable an account: it can no longer sign in, and its sessions end now."""
    account = _require(conn, name)
    with conn.transaction():
        conn.execute(
            f"UPDATE {ACCOUNTS} SET disabled_at = coalesce(disabled_at, %s) WHERE account_id = %s",
            (now, account.account_id),
        )
        end_sessions(conn, account.account_id)
    return _reloaded(conn, account)


def enable_account(conn: psycopg.Connection[Any], name: str) -> Account:
    """Let a disabled account sign in again, with the password it had."""
    account = _require(conn, name)
    conn.execute(
        f"UPDATE {ACCOUNTS} SET disabled_at = NULL WHERE account_id = %s", (account.account_id,)
    )
    return _reloaded(conn, account)


def reset_account(
    conn: psycopg.Connection[Any], name: str, *, now: datetime, policy: AccountPolicy
) -> Issued:
    """Issue a new one-time password: the old password stops working, a lock is lifted,
    and every session of the account ends now."""
    account = _require(conn, name)
    password = one_time_password()
    with conn.transaction():
        conn.execute(
            f"UPDATE {ACCOUNTS} SET password_hash = %s, must_change_password = true, "
            "password_expires_at = %s WHERE account_id = %s",
            (hash_password(password), now + policy.one_time_password_lifetime, account.account_id),
        )
        conn.execute(f"DELETE FROM {ATTEMPTS} WHERE name_digest = %s", (name_digest(account.name),))
        end_sessions(conn, account.account_id)
    return Issued(account=_reloaded(conn, account), one_time_password=password)


def set_locale(conn: psycopg.Connection[Any], account_id: str, locale: str) -> None:
    """The language the console speaks to this account."""
    _check_locale(locale)
    conn.execute(f"UPDATE {ACCOUNTS} SET locale = %s WHERE account_id = %s", (locale, account_id))


def store_password(
    conn: psycopg.Connection[Any], account_id: str, password_hash: str, *, chosen: bool
) -> None:
    """Store a new hash: ``chosen`` by the person (no change needed, no expiry) or a
    rehash of the same password with newer parameters (everything else kept)."""
    if chosen:
        conn.execute(
            f"UPDATE {ACCOUNTS} SET password_hash = %s, must_change_password = false, "
            "password_expires_at = NULL WHERE account_id = %s",
            (password_hash, account_id),
        )
    else:
        conn.execute(
            f"UPDATE {ACCOUNTS} SET password_hash = %s WHERE account_id = %s",
            (password_hash, account_id),
        )


def end_sessions(conn: psycopg.Connection[Any], account_id: str) -> int:
    """End every session of an account; how many there were."""
    cur = conn.execute(f"DELETE FROM {SESSIONS} WHERE account_id = %s", (account_id,))
    return cur.rowcount


def account_from_row(row: dict[str, Any]) -> Account:
    return Account(
        account_id=row["account_id"],
        name=row["name"],
        role=Role(row["role"]),
        sites=tuple(row["sites"]),
        locale=row["locale"],
        must_change_password=row["must_change_password"],
        password_expires_at=row["password_expires_at"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
        locked_at=row["locked_at"],
    )


def _one(conn: psycopg.Connection[Any], where: str, value: str) -> Account | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNT_FROM} WHERE {where}", (value,)
        ).fetchone()
    return account_from_row(row) if row else None


def _require(conn: psycopg.Connection[Any], name: str) -> Account:
    create_account_tables(conn)
    account = find_account(conn, name)
    if account is None:
        raise AccountError(f"no account named {name!r}", "no-account")
    return account


def _reloaded(conn: psycopg.Connection[Any], account: Account) -> Account:
    found = get_account(conn, account.account_id)
    assert found is not None
    return found


def _check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise AccountError(
            f"the console speaks {', '.join(LOCALES)}, not {locale!r}", "unknown-language"
        )
