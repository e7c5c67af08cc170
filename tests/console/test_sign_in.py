"""Signing in: slow-down, lockout, one-time passwords, and nothing telling whether a name
is an account. Through the service alone, on a real PostgreSQL, with a clock moved by hand."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher

from campledger.api.services.accounts import create_account, find_account, reset_account
from campledger.api.services.passwords import PasswordRefused
from campledger.api.services.sign_in import (
    FREE_FAILURES,
    Outcome,
    WrongPassword,
    change_password,
    delay_after,
    sign_in,
)
from tests.console.clock import Clock
from tests.console.conftest import POLICY

Conn = psycopg.Connection[Any]
NEW_PASSWORD = "sand-and-wind-at-tine"


def account(conn: Conn, clock: Clock, name: str = "amina") -> str:
    """An account whose password has been chosen; returns that password."""
    issued = create_account(conn, name=name, role="registrar", now=clock(), policy=POLICY)
    change_password(
        conn, issued.account, current=issued.one_time_password, new=NEW_PASSWORD,
        now=clock(), policy=POLICY,
    )  # fmt: skip
    return NEW_PASSWORD


def test_the_right_password_signs_in_and_a_wrong_one_is_refused(conn: Conn, clock: Clock) -> None:
    password = account(conn, clock)
    good = sign_in(conn, "Amina", password, now=clock(), policy=POLICY)
    assert good.outcome is Outcome.SIGNED_IN and good.account is not None
    assert not good.account.must_change_password
    bad = sign_in(conn, "amina", password + "x", now=clock(), policy=POLICY)
    assert bad.outcome is Outcome.REFUSED and bad.account is None


def test_failures_make_the_next_attempt_wait_longer_each_time(conn: Conn, clock: Clock) -> None:
    password = account(conn, clock)
    waits = []
    for _ in range(FREE_FAILURES + 4):
        failed = sign_in(conn, "amina", "wrong", now=clock(), policy=POLICY)
        assert failed.outcome is Outcome.REFUSED
        waits.append(failed.retry_after)
        if failed.retry_after:
            # Too early, even with the right password: refused before it is checked.
            clock.advance(seconds=failed.retry_after - 0.5)
            early = sign_in(conn, "amina", password, now=clock(), policy=POLICY)
            assert early.outcome is Outcome.WAIT and early.retry_after == 1
            clock.advance(seconds=0.5)
    assert waits == [0, 0, 0, 1, 2, 4, 8]
    assert sign_in(conn, "amina", password, now=clock(), policy=POLICY).outcome is Outcome.SIGNED_IN


def test_the_wait_is_capped() -> None:
    assert delay_after(FREE_FAILURES).total_seconds() == 0
    assert delay_after(40).total_seconds() == 300


def test_a_success_forgets_earlier_failures(conn: Conn, clock: Clock) -> None:
    password = account(conn, clock)
    for _ in range(FREE_FAILURES):
        sign_in(conn, "amina", "wrong", now=clock(), policy=POLICY)
    sign_in(conn, "amina", password, now=clock(), policy=POLICY)
    assert sign_in(conn, "amina", "wrong", now=clock(), policy=POLICY).retry_after == 0


def test_repeated_failures_lock_the_account_until_an_administrator_resets_it(
    conn: Conn, clock: Clock
) -> None:
    password = account(conn, clock)
    outcomes = []
    for _ in range(POLICY.lock_after_failures):
        outcome = sign_in(conn, "amina", "wrong", now=clock(), policy=POLICY)
        outcomes.append(outcome.outcome)
        clock.advance(seconds=outcome.retry_after)
    assert outcomes[-1] is Outcome.LOCKED and set(outcomes[:-1]) == {Outcome.REFUSED}
    clock.advance(days=30)
    assert sign_in(conn, "amina", password, now=clock(), policy=POLICY).outcome is Outcome.LOCKED
    locked = find_account(conn, "amina")
    assert locked is not None and locked.status == "locked"

    issued = reset_account(conn, "amina", now=clock(), policy=POLICY)
    assert issued.account.status == "one-time password"
    after = sign_in(conn, "amina", issued.one_time_password, now=clock(), policy=POLICY)
    assert after.outcome is Outcome.SIGNED_IN


def test_guesses_sent_at_once_still_meet_the_lock(database_url: str, clock: Clock) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        account(conn, clock)

    def guess(i: int) -> Outcome:
        with psycopg.connect(database_url, autocommit=True) as own:
            return sign_in(own, "amina", f"guess-{i}", now=clock(), policy=POLICY).outcome

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(guess, range(16)))
    # Without the row lock all 16 would have been checked; with it, attempts past the
    # free ones wait for the slow-down, so at most the free ones and one more are checked.
    assert outcomes.count(Outcome.REFUSED) <= FREE_FAILURES + 1
    assert outcomes.count(Outcome.WAIT) >= 16 - FREE_FAILURES - 1


def test_an_unknown_name_is_slowed_down_and_locked_exactly_as_a_real_one(
    conn: Conn, clock: Clock
) -> None:
    account(conn, clock)
    for_real, for_nobody = [], []
    for name, seen in (("amina", for_real), ("nobody-here", for_nobody)):
        for _ in range(POLICY.lock_after_failures + 1):
            outcome = sign_in(conn, name, "wrong", now=clock(), policy=POLICY)
            seen.append((outcome.outcome, outcome.retry_after, outcome.account))
            clock.advance(seconds=outcome.retry_after)
    assert for_real == for_nobody


def test_an_unknown_name_costs_the_same_password_check_as_a_real_one(
    conn: Conn, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    account(conn, clock)
    checked: list[str] = []
    verify = PasswordHasher.verify

    def spy(self: PasswordHasher, stored: str, password: str) -> bool:
        checked.append(stored.rsplit("$", 2)[0])  # algorithm and parameters, not the salt
        return verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    sign_in(conn, "amina", "wrong", now=clock(), policy=POLICY)
    sign_in(conn, "nobody-here", "wrong", now=clock(), policy=POLICY)
    assert len(checked) == 2 and checked[0] == checked[1]


def test_an_unknown_name_takes_as_long_as_a_wrong_password(conn: Conn, clock: Clock) -> None:
    account(conn, clock)
    timings: dict[str, list[float]] = {"amina": [], "nobody-here": []}
    for _ in range(FREE_FAILURES):  # within the free failures: every attempt is checked
        for name, seen in timings.items():
            started = time.perf_counter()
            sign_in(conn, name, "wrong", now=clock(), policy=POLICY)
            seen.append(time.perf_counter() - started)
    real, nobody = (statistics.median(seen) for seen in timings.values())
    # Without the decoy check an unknown name answered in about 1% of the time.
    assert 0.6 < nobody / real < 1.6, (real, nobody)


def test_a_one_time_password_must_be_changed_and_then_stops_working(
    conn: Conn, clock: Clock
) -> None:
    issued = create_account(conn, name="amina", role="registrar", now=clock(), policy=POLICY)
    first = sign_in(conn, "amina", issued.one_time_password, now=clock(), policy=POLICY)
    assert first.account is not None and first.account.must_change_password
    changed = change_password(
        conn, first.account, current=issued.one_time_password, new=NEW_PASSWORD,
        now=clock(), policy=POLICY,
    )  # fmt: skip
    assert not changed.must_change_password and changed.password_expires_at is None
    again = sign_in(conn, "amina", issued.one_time_password, now=clock(), policy=POLICY)
    assert again.outcome is Outcome.REFUSED
    assert sign_in(conn, "amina", NEW_PASSWORD, now=clock(), policy=POLICY).account is not None


def test_a_one_time_password_expires(conn: Conn, clock: Clock) -> None:
    issued = create_account(conn, name="amina", role="registrar", now=clock(), policy=POLICY)
    clock.advance(seconds=POLICY.one_time_password_lifetime.total_seconds())
    late = sign_in(conn, "amina", issued.one_time_password, now=clock(), policy=POLICY)
    assert late.outcome is Outcome.EXPIRED and late.account is None


@pytest.mark.parametrize(
    ("new", "rule"),
    [("short-one", "too-short"), ("x" * 201, "too-long"),
     ("my name is amina!", "contains-name")],
)  # fmt: skip
def test_a_new_password_must_be_long_and_not_the_name(
    conn: Conn, clock: Clock, new: str, rule: str
) -> None:
    issued = create_account(conn, name="amina", role="registrar", now=clock(), policy=POLICY)
    with pytest.raises(PasswordRefused) as refused:
        change_password(
            conn, issued.account, current=issued.one_time_password, new=new,
            now=clock(), policy=POLICY,
        )  # fmt: skip
    assert refused.value.code == rule


def test_the_new_password_must_differ_from_the_one_it_replaces(conn: Conn, clock: Clock) -> None:
    password = account(conn, clock)
    found = find_account(conn, "amina")
    assert found is not None
    with pytest.raises(PasswordRefused, match="differ"):
        change_password(conn, found, current=password, new=password, now=clock(), policy=POLICY)


def test_changing_the_password_needs_the_current_one_and_counts_a_wrong_one(
    conn: Conn, clock: Clock
) -> None:
    account(conn, clock)
    found = find_account(conn, "amina")
    assert found is not None
    for _ in range(POLICY.lock_after_failures):
        with pytest.raises(WrongPassword):
            change_password(conn, found, current="wrong", new="x" * 20, now=clock(), policy=POLICY)
        clock.advance(minutes=10)
    locked = find_account(conn, "amina")
    assert locked is not None and locked.status == "locked"


def test_a_password_is_the_same_however_the_keyboard_composes_it(conn: Conn, clock: Clock) -> None:
    issued = create_account(conn, name="amina", role="registrar", now=clock(), policy=POLICY)
    composed = "caf\u00e9-au-lait-chaud"
    change_password(
        conn, issued.account, current=issued.one_time_password, new=composed,
        now=clock(), policy=POLICY,
    )  # fmt: skip
    decomposed = "cafe\u0301-au-lait-chaud"
    assert sign_in(conn, "amina", decomposed, now=clock(), policy=POLICY).account is not None
