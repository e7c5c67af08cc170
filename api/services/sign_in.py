"""Signing in with a name and password, and changing one's password.

Failures are counted per name tried, whether or not an account holds it, and only
consecutive ones (a success clears them): after ``FREE_FAILURES`` each further failure
makes the next attempt wait twice as long, and at ``lock_after_failures`` the name is
locked until an administrator resets the account. An attempt during the wait or on a
locked name is refused before any password is checked.

Nothing in an answer or in its timing tells whether an account exists before its
password has been given: an unknown name costs the same argon2id check as a known one
(against a decoy hash), is counted, slowed down and locked the same way, and gets the
same answer. Only once the right password is given does the answer say that an account
is disabled or that its one-time password has expired.

Attempts on one name are serialised by a row lock held while the password is checked, so
a hundred guesses sent at once still meet the count one by one.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import psycopg

from campledger.api.database.accounts import ACCOUNTS, ATTEMPTS, create_account_tables
from campledger.api.services.accounts import (
    Account,
    AccountPolicy,
    find_account,
    get_account,
    name_digest,
    store_password,
)
from campledger.api.services.passwords import (
    check_decoy,
    check_new_password,
    check_password,
    hash_password,
)

log = logging.getLogger(__name__)

FREE_FAILURES = 3
MAX_WAIT = timedelta(minutes=5)


class Outcome(StrEnum):
    SIGNED_IN = "signed-in"
    # The name or the password is not right (an unknown name is answered the same).
    REFUSED = "refused"
    # Too many failures just now: the next attempt is accepted after ``retry_after``.
    WAIT = "wait"
    LOCKED = "locked"
    # The right password, but the account may not sign in.
    DISABLED = "disabled"
    EXPIRED = "expired"


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    account: Account | None = None
    # Whole seconds until another attempt is accepted (after a failure, or while waiting).
    retry_after: int = 0


class WrongPassword(ValueError):
    """The current password given to change it is not right."""


def delay_after(failures: int) -> timedelta:
    """How long the next attempt waits after this many consecutive failures."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES - 1)), MAX_WAIT)


def sign_in(
    conn: psycopg.Connection[Any],
    name: str,
    password: str,
    *,
    now: datetime,
    policy: AccountPolicy,
) -> SignIn:
    """Check a name and password; on success the account (sessions are ``sessions.py``)."""
    create_account_tables(conn)
    digest = name_digest(name)
    with conn.transaction():
        failures, next_attempt_at, locked_at = _attempts(conn, digest, now)
        if locked_at is not None:
            return SignIn(Outcome.LOCKED)
        if now < next_attempt_at:
            return SignIn(Outcome.WAIT, retry_after=_seconds(next_attempt_at - now))
        account = find_account(conn, name)
        if account is None:
            check_decoy(password)
            return _failed(conn, digest, failures + 1, now, policy)
        checked = check_password(_hash_of(conn, account), password)
        if not checked.matches:
            return _failed(conn, digest, failures + 1, now, policy)
        if account.disabled_at is not None:
            return SignIn(Outcome.DISABLED)
        expires = account.password_expires_at
        if account.must_change_password and expires is not None and now >= expires:
            return SignIn(Outcome.EXPIRED)
        conn.execute(f"DELETE FROM {ATTEMPTS} WHERE name_digest = %s", (digest,))
        if checked.rehashed:
            store_password(conn, account.account_id, checked.rehashed, chosen=False)
    return SignIn(Outcome.SIGNED_IN, account=account)


def change_password(
    conn: psycopg.Connection[Any],
    account: Account,
    *,
    current: str,
    new: str,
    now: datetime,
    policy: AccountPolicy,
) -> Account:
    """Replace the account's password (a one-time one, or one the person chose).

    The current password is asked for again, and a wrong one counts as a failed sign-in:
    a browser left signed in must not become a way to guess it. Raises ``WrongPassword``,
    or ``PasswordRefused`` naming the rule a new password breaks.
    """
    outcome = sign_in(conn, account.name, current, now=now, policy=policy)
    if outcome.outcome is not Outcome.SIGNED_IN:
        raise WrongPassword(outcome.outcome.value)
    check_new_password(new, current=current, account_name=account.name)
    store_password(conn, account.account_id, hash_password(new), chosen=True)
    changed = get_account(conn, account.account_id)
    assert changed is not None
    return changed


def _attempts(
    conn: psycopg.Connection[Any], digest: str, now: datetime
) -> tuple[int, datetime, datetime | None]:
    """The name's failures so far, locked for the rest of the transaction."""
    conn.execute(
        f"INSERT INTO {ATTEMPTS} (name_digest, failures, last_failure_at, next_attempt_at) "
        "VALUES (%s, 0, %s, %s) ON CONFLICT (name_digest) DO NOTHING",
        (digest, now, now),
    )
    row = conn.execute(
        f"SELECT failures, next_attempt_at, locked_at FROM {ATTEMPTS} "
        "WHERE name_digest = %s FOR UPDATE",
        (digest,),
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1], row[2]


def _failed(
    conn: psycopg.Connection[Any], digest: str, failures: int, now: datetime, policy: AccountPolicy
) -> SignIn:
    locked = failures >= policy.lock_after_failures
    wait = delay_after(failures)
    conn.execute(
        f"UPDATE {ATTEMPTS} SET failures = %s, last_failure_at = %s, next_attempt_at = %s, "
        "locked_at = %s WHERE name_digest = %s",
        (failures, now, now + wait, now if locked else None, digest),
    )
    if locked:
        # The digest, not the name: a name field sometimes holds a mistyped password.
        log.warning("sign-in locked after %d failures (name digest %s)", failures, digest[:12])
        return SignIn(Outcome.LOCKED)
    return SignIn(Outcome.REFUSED, retry_after=_seconds(wait))


def _hash_of(conn: psycopg.Connection[Any], account: Account) -> str:
    row = conn.execute(
        f"SELECT password_hash FROM {ACCOUNTS} WHERE account_id = %s", (account.account_id,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def _seconds(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds()) if delta > timedelta(0) else 0
