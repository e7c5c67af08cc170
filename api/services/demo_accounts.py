"""The demo operation's console accounts: one per role, some held to a site, each with a
password issued at every start of ``campledger serve --demo`` and shown to whoever
started it, so that a new user can sign in and see what each role sees.

Demo only: the passwords are printed and written to a file in the data directory, which
is exactly what a real operation must never do (there, ``campledger user create`` gives a
one-time password that must be replaced at the first sign-in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from campledger.api.database.accounts import create_account_tables
from campledger.api.services.accounts import (
    AccountPolicy,
    create_account,
    find_account,
    reset_account,
    store_password,
)
from campledger.api.services.auth import Role
from campledger.api.services.demo import CAMPS, RECEPTION, SCREENING
from campledger.api.services.passwords import hash_password, one_time_password

DEMO_ACCOUNTS_FILE = "demo-accounts"


@dataclass(frozen=True)
class DemoAccount:
    name: str
    role: Role
    sites: tuple[str, ...]  # empty: every site
    password: str = ""


# Who does what in the demo operation, by the names the field would know them by.
STAFF = (
    DemoAccount("Halima Idriss", Role.ADMIN, ()),  # the operation's coordinator
    DemoAccount("Moussa Abakar", Role.REGISTRAR, (RECEPTION.code,)),
    DemoAccount("Fatimé Mahamat", Role.SCREENER, (SCREENING.code,)),
    DemoAccount("Issa Brahim", Role.TRANSFER_OFFICER, (RECEPTION.code, *(c.code for c in CAMPS))),
    DemoAccount("Achta Oumar", Role.SITE_MANAGER, (CAMPS[0].code,)),
    # Audit reads span every site: an auditor held to a site could open none of them.
    DemoAccount("Kaltouma Adoum", Role.AUDITOR, ()),
    # Erasure answers a person, a court or the retention policy, at whichever site.
    DemoAccount("Hawa Djibrine", Role.DATA_PROTECTION_OFFICER, ()),
)


def issue_demo_accounts(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    policy: AccountPolicy,
    staff: Sequence[DemoAccount] = STAFF,
) -> list[DemoAccount]:
    """Each demo account, created if missing, with a new password that needs no change
    (the old one stops working, a lock is lifted, its sessions end)."""
    create_account_tables(conn)
    issued = []
    for member in staff:
        if find_account(conn, member.name) is None:
            account = create_account(
                conn, name=member.name, role=member.role, sites=member.sites,
                now=now, policy=policy,
            ).account  # fmt: skip
        else:
            account = reset_account(conn, member.name, now=now, policy=policy).account
        password = one_time_password()
        store_password(conn, account.account_id, hash_password(password), chosen=True)
        issued.append(DemoAccount(member.name, member.role, member.sites, password))
    return issued


def write_demo_accounts(path: Path, accounts: Sequence[DemoAccount], console_url: str) -> None:
    """The accounts and their passwords in a file only its owner may read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    lines = [
        "# campledger demo accounts: DEMO ONLY, never on a real operation.",
        f"# Sign in at {console_url} ; new passwords at every `campledger serve --demo`.",
        "# role\tname\tsites\tpassword",
        *(
            f"{a.role.value}\t{a.name}\t{','.join(a.sites) or 'all'}\t{a.password}"
            for a in accounts
        ),
    ]
    path.write_text("\n".join(lines) + "\n")
