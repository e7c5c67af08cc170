"""The tables of people's accounts: the accounts, their sign-in attempts, their sessions.

Created at startup beside the tokens table. What goes into them and how they are read is
``api/services/accounts.py``, ``api/services/sign_in.py`` and ``api/services/sessions.py``.

- ``accounts``: one row per person who signs in to the console. ``name`` is shown and
  recorded as the actor of events; ``name_key`` (the name case- and width-folded) is what
  is unique and what sign-in looks up, so "Amina" and "amina" cannot be two people.
  Only the argon2id hash of the password is stored.
- ``sign_in_attempts``: failures counted per name tried, kept apart from the accounts so
  that a name nobody holds is slowed down and locked exactly as a real one is (the answer
  must not tell whether an account exists). The name is stored as a SHA-256 digest: people
  type their password into the name field now and then.
- ``account_sessions``: one row per signed-in browser. The cookie holds a random token; only
  its SHA-256 is stored, so a copy of the table signs nobody in.
"""

from __future__ import annotations

from typing import Any

import psycopg

from campledger.api.database.tables import create_tables

ACCOUNTS = "accounts"
ATTEMPTS = "sign_in_attempts"
SESSIONS = "account_sessions"

DDL = (
    f"CREATE TABLE IF NOT EXISTS {ACCOUNTS} ("
    "account_id text PRIMARY KEY, "
    "name text NOT NULL, "
    "name_key text NOT NULL UNIQUE, "
    "name_digest text NOT NULL UNIQUE, "
    "role text NOT NULL, "
    "sites text[] NOT NULL DEFAULT '{}', "
    "locale text NOT NULL, "
    "password_hash text NOT NULL, "
    # A one-time password (issued at creation and reset) must be replaced at first sign-in
    # and stops working when it expires.
    "must_change_password boolean NOT NULL, "
    "password_expires_at timestamptz, "
    "created_at timestamptz NOT NULL, "
    "disabled_at timestamptz)",
    f"CREATE TABLE IF NOT EXISTS {ATTEMPTS} ("
    "name_digest text PRIMARY KEY, "
    "failures integer NOT NULL, "
    "last_failure_at timestamptz NOT NULL, "
    "next_attempt_at timestamptz NOT NULL, "
    "locked_at timestamptz)",
    f"CREATE TABLE IF NOT EXISTS {SESSIONS} ("
    "token_sha256 text PRIMARY KEY, "
    f"account_id text NOT NULL REFERENCES {ACCOUNTS} ON DELETE CASCADE, "
    "csrf_token text NOT NULL, "
    "created_at timestamptz NOT NULL, "
    "last_seen_at timestamptz NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {SESSIONS}_account ON {SESSIONS} (account_id)",
)


def create_account_tables(conn: psycopg.Connection[Any]) -> None:
    """Create the tables if missing (at startup, and before a command that needs them)."""
    create_tables(conn, SESSIONS, DDL)
