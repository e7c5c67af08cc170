"""Server-side sessions of signed-in people.

The browser's cookie holds a random 256-bit token; the table holds only its SHA-256, as
for API tokens (a copy of the table signs nobody in). A session ends when its person
signs out, after ``session_idle`` without a request, ``session_lifetime`` after it began
whatever happens, and at once when its account is disabled or reset.

Each session has its own random CSRF token: every form the console sends carries it, and
every request that changes something must send it back (``csrf_matches``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from campledger.api.database.accounts import SESSIONS
from campledger.api.services.accounts import (
    ACCOUNT_COLUMNS,
    ACCOUNT_FROM,
    Account,
    AccountPolicy,
    account_from_row,
)

# The last request's time is written at most this often: a page that loads five assets
# and a few partial updates costs one write, and idle expiry is exact to within this.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    account: Account
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime

    def expires_at(self, policy: AccountPolicy) -> datetime:
        """When the session ends if no request comes (or at its absolute end)."""
        return min(
            self.last_seen_at + policy.session_idle, self.created_at + policy.session_lifetime
        )


@dataclass(frozen=True)
class Started:
    """A new session and the token for its cookie (in clear here only)."""

    token: str
    session: Session


def start_session(
    conn: psycopg.Connection[Any], account: Account, *, now: datetime, policy: AccountPolicy
) -> Started:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with conn.transaction():
        # Sweep ended sessions now and then: at sign-in is often enough to keep it small.
        conn.execute(
            f"DELETE FROM {SESSIONS} WHERE last_seen_at < %s OR created_at < %s",
            (now - policy.session_idle, now - policy.session_lifetime),
        )
        conn.execute(
            f"INSERT INTO {SESSIONS} (token_sha256, account_id, csrf_token, created_at, "
            "last_seen_at) VALUES (%s, %s, %s, %s, %s)",
            (_digest(token), account.account_id, csrf, now, now),
        )
    return Started(token=token, session=Session(account, csrf, now, now))


def resolve_session(
    conn: psycopg.Connection[Any], token: str, *, now: datetime, policy: AccountPolicy
) -> Session | None:
    """The live session a cookie's token stands for, or None (unknown, ended, expired,
    or its account disabled). The account is read afresh: a role changed, a scope
    narrowed or a language chosen applies from the next request."""
    if not token or len(token) > 100:
        return None
    digest = _digest(token)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT s.csrf_token, s.created_at AS session_created_at, s.last_seen_at, "
            f"{ACCOUNT_COLUMNS} FROM {SESSIONS} s JOIN {ACCOUNT_FROM} "
            "ON a.account_id = s.account_id WHERE s.token_sha256 = %s",
            (digest,),
        ).fetchone()
    if row is None:
        return None
    session = Session(
        account=account_from_row(row),
        csrf_token=row["csrf_token"],
        created_at=row["session_created_at"],
        last_seen_at=row["last_seen_at"],
    )
    if session.account.disabled_at is not None or now >= session.expires_at(policy):
        conn.execute(f"DELETE FROM {SESSIONS} WHERE token_sha256 = %s", (digest,))
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        conn.execute(
            f"UPDATE {SESSIONS} SET last_seen_at = %s WHERE token_sha256 = %s", (now, digest)
        )
        session = Session(session.account, session.csrf_token, session.created_at, now)
    return session


def end_session(conn: psycopg.Connection[Any], token: str) -> None:
    """Sign out: the token stops working at once."""
    conn.execute(f"DELETE FROM {SESSIONS} WHERE token_sha256 = %s", (_digest(token),))


def csrf_matches(session: Session, presented: str | None) -> bool:
    """Whether a request's CSRF token is this session's, compared in constant time."""
    return bool(presented) and hmac.compare_digest(
        session.csrf_token.encode(), (presented or "").encode()
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
