"""Bearer tokens, roles and site scopes.

A token is ``cl_<id>_<secret>``: the id finds the row, the secret proves possession.
Only SHA-256 of the secret is stored. A slow password hash (bcrypt, argon2) protects
low-entropy passwords against guessing; a 256-bit random secret cannot be guessed, and a
slow hash on every request would cap the API at a few dozen requests per second. The
comparison is constant-time (``hmac.compare_digest``).

The actor recorded on every event is the token's name, never anything from the request;
so no token takes the name of a person's account (``actor_names.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.rows import dict_row

from campledger.api.services.actor_names import MAX_NAME_LENGTH, Refused, account_named, name_key


class Role(StrEnum):
    REGISTRAR = "registrar"
    SCREENER = "screener"
    TRANSFER_OFFICER = "transfer_officer"
    SITE_MANAGER = "site_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # The operation's data protection officer: erases personal data (on a person's request,
    # a court's order, the retention policy), exports everything held about a person who
    # asks for it, and reads whom it erases or exports; changes nothing else.
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    # Prometheus and the like: reads /metrics and nothing else, so the token a scraper's
    # configuration holds opens no person's data if it leaks.
    MONITOR = "monitor"


class Permission(StrEnum):
    SITES_READ = "sites:read"
    SITES_WRITE = "sites:write"
    ROSTERS_READ = "rosters:read"
    ARRIVALS_WRITE = "arrivals:write"
    PERSONS_READ = "persons:read"
    PERSONAL_DATA = "persons:personal"
    SCREENING_WRITE = "screening:write"
    DEPARTURES_WRITE = "departures:write"
    CORRECTIONS_WRITE = "corrections:write"
    MERGES_WRITE = "merges:write"
    TRANSFERS_READ = "transfers:read"
    TRANSFERS_WRITE = "transfers:write"
    HOUSEHOLDS_READ = "households:read"
    # The holds register: who is held, where, on whose order. Screeners decide holds, site
    # managers keep the people, auditors check them; transfer officers move them by the
    # manifest and do not need the register.
    HOLDS_READ = "holds:read"
    AUDIT_READ = "audit:read"
    IMPORTS_WRITE = "imports:write"
    DUPLICATES_READ = "duplicates:read"
    DUPLICATES_REVIEW = "duplicates:review"
    # Join a household whose members are at sites outside one's scope, and see them
    # identified in household reads: reuniting families is the site manager's call.
    FAMILY_TRACING = "households:trace"
    METRICS_READ = "metrics:read"
    # List, disable, enable and reset people's accounts: an administrator's alone. Not a
    # ":read", which the auditor would get: the list leads straight to its buttons.
    ACCOUNTS_ADMIN = "accounts:admin"
    # Erase a person's personal data for good (docs/data-protection.md).
    PERSONAL_DATA_ERASE = "personal-data:erase"
    # Export everything held about one person, for their right of access
    # (docs/data-protection.md, Subject access). Not a ":read": the auditor, who reads
    # everything, answers no one's request; the data protection officer does.
    SUBJECT_ACCESS = "personal-data:export"


P = Permission
_READ_COMMON = {P.SITES_READ, P.PERSONS_READ}

# Least privilege: each role gets what its field job needs and nothing more. Transfer
# officers check people in by registration number, so they do not see names; they read
# separated households (numbers, relationships, where each member is: no names) because
# moving a person to their family is a transfer they plan.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Registrars and screeners work through the people of their own sites (a screening
    # queue, who is still to register): they read those rosters, as they read each person.
    Role.REGISTRAR: frozenset(
        _READ_COMMON
        | {
            P.ROSTERS_READ,
            P.ARRIVALS_WRITE,
            P.IMPORTS_WRITE,
            P.CORRECTIONS_WRITE,
            P.PERSONAL_DATA,
        }
    ),
    Role.SCREENER: frozenset(
        _READ_COMMON | {P.ROSTERS_READ, P.SCREENING_WRITE, P.PERSONAL_DATA, P.HOLDS_READ}
    ),
    Role.TRANSFER_OFFICER: frozenset(
        _READ_COMMON | {P.TRANSFERS_READ, P.TRANSFERS_WRITE, P.HOUSEHOLDS_READ}
    ),
    Role.SITE_MANAGER: frozenset(
        _READ_COMMON
        | {
            P.SITES_WRITE,
            P.ROSTERS_READ,
            P.DEPARTURES_WRITE,
            P.MERGES_WRITE,
            P.TRANSFERS_READ,
            P.HOUSEHOLDS_READ,
            P.HOLDS_READ,
            P.PERSONAL_DATA,
            P.DUPLICATES_READ,
            P.DUPLICATES_REVIEW,
            P.FAMILY_TRACING,
        }
    ),
    # Auditors read everything, history included, and write nothing.
    Role.AUDITOR: frozenset(p for p in Permission if p.endswith(":read") or p == P.PERSONAL_DATA),
    Role.ADMIN: frozenset(Permission),
    Role.DATA_PROTECTION_OFFICER: frozenset(
        _READ_COMMON | {P.PERSONAL_DATA, P.PERSONAL_DATA_ERASE, P.SUBJECT_ACCESS, P.AUDIT_READ}
    ),
    Role.MONITOR: frozenset({P.METRICS_READ}),
}

TOKENS_TABLE = "api_tokens"

_DDL = f"""
CREATE TABLE IF NOT EXISTS {TOKENS_TABLE} (
    token_id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    role text NOT NULL,
    sites text[] NOT NULL DEFAULT '{{}}',
    secret_sha256 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
)
"""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's name, role and the sites it may act on (empty: all)."""

    token_id: str
    name: str
    role: Role
    sites: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        return self.name

    @property
    def permissions(self) -> frozenset[Permission]:
        return PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def scoped(self) -> bool:
        return bool(self.sites)

    def covers(self, site_code: str | None) -> bool:
        """May this token act on that site? An unscoped token covers every site."""
        if not self.sites:
            return True
        return site_code is not None and site_code in self.sites

    def covers_any(self, site_codes: Iterable[str | None]) -> bool:
        return any(self.covers(code) for code in site_codes)


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    role: str
    sites: list[str]
    created_at: datetime
    revoked_at: datetime | None


class TokenError(Refused):
    """A token that cannot be created as asked; the message says why."""


def ensure_tokens_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute(_DDL)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    conn: psycopg.Connection[Any], *, name: str, role: str, sites: Sequence[str] = ()
) -> str:
    """Create a token and return it; this is the only time the secret exists in clear."""
    try:
        checked_role = Role(role)
    except ValueError:
        raise TokenError(f"there is no role {role!r}", "unknown-role") from None
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise TokenError(
            f"a token needs a name of 1 to {MAX_NAME_LENGTH} printable characters", "bad-name"
        )
    ensure_tokens_table(conn)
    if account_named(conn, name):
        raise TokenError(
            f"a person's account is already named {name!r}: the audit trail could not tell "
            "the token's actions from theirs; choose another name",
            "account-name",
        )
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    try:
        conn.execute(
            f"INSERT INTO {TOKENS_TABLE} (token_id, name, role, sites, secret_sha256) "
            "VALUES (%s, %s, %s, %s, %s)",
            (token_id, name, checked_role.value, sorted(set(sites)), _digest(secret)),
        )
    except psycopg.errors.UniqueViolation:
        raise TokenError(f"a token named {name!r} already exists", "name-taken") from None
    return f"cl_{token_id}_{secret}"


def token_named(conn: psycopg.Connection[Any], name: str) -> bool:
    """Whether a token, live or revoked, goes by this name however it is cased or spaced
    (a revoked token's name is still the actor of what it wrote)."""
    ensure_tokens_table(conn)
    key = name_key(name)
    names = conn.execute(f"SELECT name FROM {TOKENS_TABLE}").fetchall()
    return any(name_key(found) == key for (found,) in names)


def authenticate(conn: psycopg.Connection[Any], token: str) -> Principal | None:
    """The principal a presented token stands for, or None (unknown, malformed, revoked)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "cl" or not parts[1] or not parts[2]:
        return None
    _, token_id, secret = parts
    row = conn.execute(
        f"SELECT name, role, sites, secret_sha256, revoked_at FROM {TOKENS_TABLE} "
        "WHERE token_id = %s",
        (token_id,),
        prepare=True,
    ).fetchone()
    if row is None:
        # Hash anyway, so an unknown id costs the same time as a wrong secret.
        hmac.compare_digest(_digest(secret), _digest(""))
        return None
    name, role, sites, stored, revoked_at = row
    if not hmac.compare_digest(_digest(secret), stored) or revoked_at is not None:
        return None
    return Principal(token_id=token_id, name=name, role=Role(role), sites=frozenset(sites))


def list_tokens(conn: psycopg.Connection[Any]) -> list[TokenInfo]:
    ensure_tokens_table(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT token_id, name, role, sites, created_at, revoked_at FROM {TOKENS_TABLE} "
            "ORDER BY created_at"
        ).fetchall()
    return [TokenInfo(**row) for row in rows]


def get_token(conn: psycopg.Connection[Any], token_id: str) -> TokenInfo | None:
    ensure_tokens_table(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT token_id, name, role, sites, created_at, revoked_at FROM {TOKENS_TABLE} "
            "WHERE token_id = %s",
            (token_id,),
        ).fetchone()
    return TokenInfo(**row) if row else None


def revoke_token(conn: psycopg.Connection[Any], name_or_id: str) -> bool:
    """Revoke by name or id; True if a live token was revoked."""
    return _revoke(conn, "name = %s OR token_id = %s", (name_or_id, name_or_id))


def revoke_token_id(conn: psycopg.Connection[Any], token_id: str) -> bool:
    """Revoke by id alone (a form's button names its row by id, and another token's name
    could be that id); True if a live token was revoked."""
    return _revoke(conn, "token_id = %s", (token_id,))


def _revoke(conn: psycopg.Connection[Any], where: str, values: tuple[str, ...]) -> bool:
    ensure_tokens_table(conn)
    cur = conn.execute(
        f"UPDATE {TOKENS_TABLE} SET revoked_at = %s WHERE ({where}) AND revoked_at IS NULL",
        (datetime.now(UTC), *values),
    )
    return cur.rowcount > 0
