"""The names events record as their actor: a person's account's, or an API token's.

A person signs in with an account, a machine presents a token, and both act under their
name alone: the audit trail tells them apart by nothing else. So one name is one actor.
An account cannot take a token's name, nor a token an account's, and two names that
differ only in case, width or spacing are the same name (``name_key``). Accounts are
``accounts.py``, tokens ``auth.py``; both refuse with a ``Refused`` whose code a form
turns into its own words next to the field, and whose message the command line prints.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import psycopg

from campledger.api.database.accounts import ACCOUNTS, create_account_tables

MAX_NAME_LENGTH = 100


class Refused(ValueError):
    """A request about accounts or tokens that cannot be carried out. ``code`` names the
    rule (``bad-name``, ``name-taken``, ``account-name``, ``token-name``, ``unknown-role``,
    ``unknown-language``, ``no-account``); the message says it in English."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def name_key(name: str) -> str:
    """What makes two names the same actor: case, width and spacing do not count."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def account_named(conn: psycopg.Connection[Any], name: str) -> bool:
    """Whether an account already goes by this name, however it is cased or spaced."""
    create_account_tables(conn)
    found = conn.execute(
        f"SELECT 1 FROM {ACCOUNTS} WHERE name_key = %s", (name_key(name),)
    ).fetchone()
    return found is not None
