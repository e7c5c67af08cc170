"""What the console benchmarks share: waiting for the read models, an account with a
chosen password (and an API token of the same role), and signing in through the form."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
import psycopg

from campledger.api.services.accounts import AccountPolicy, create_account
from campledger.api.services.auth import create_token
from campledger.api.services.sign_in import change_password

PASSWORD = "a long walk to the well"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def wait_for_projection(base: str, *, poll: float, timeout: float = 900) -> float:
    """Until every read model has caught up with the log; the seconds it took, to within
    ``poll``."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        lag = httpx.get(f"{base}/health", timeout=10).json().get("lag")
        if lag and max(lag.values()) == 0:
            return time.perf_counter() - start
        time.sleep(poll)
    raise RuntimeError("the read models did not catch up")


def account_and_token(url: str, name: str, role: str, token_name: str) -> str:
    """An account of this role that has chosen its password, and an API token of the same
    role; returns the token."""
    policy = AccountPolicy()
    with psycopg.connect(url, autocommit=True) as conn:
        now = datetime.now(UTC)
        issued = create_account(conn, name=name, role=role, now=now, policy=policy)
        change_password(conn, issued.account, current=issued.one_time_password, new=PASSWORD,
                        now=now, policy=policy)  # fmt: skip
        return create_token(conn, name=token_name, role=role)


def sign_in(client: httpx.Client, name: str, headers: dict[str, str] | None = None) -> None:
    """Sign in through the console's form, as a browser does, landing on the home page."""
    token = CSRF.search(client.get("/sign-in", headers=headers).text)
    assert token, "the sign-in page has no CSRF token"
    done = client.post("/sign-in", data={"name": name, "password": PASSWORD, "next": "/",
                                         "csrf_token": token.group(1)})  # fmt: skip
    if done.status_code != 303 or done.headers["location"] != "/":
        raise RuntimeError(f"signing in failed: {done.status_code} {done.text[:200]}")
