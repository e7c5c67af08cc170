"""The desert reception, end to end through the console alone, in Chromium, against
``campledger serve`` with its projector on an empty database: each person does their part
signed in as themselves, and the next one sees it.

A site manager opens the reception point, a holding facility and a camp. A registrar
enters a household from the keyboard, then uploads the partner's list of a truckload of 500:
the check finds two bad rows by line, the fixed file imports. A screener, working in Arabic,
records the security interview of the men, holds three on an order (the first attempt,
without the order's reference, is refused next to that field) and clears the others. A
transfer officer moves the three in custody to the holding facility and everyone else to
the camp; at the camp one person never gets off the truck, and a number typed by mistake is
refused next to the field. The overview then shows one person unaccounted for and the three
holds; an auditor reads a held man's history, each step with who did it, and verifies the
chain.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from campledger.api.services.accounts import AccountPolicy, create_account, store_password
from campledger.api.services.passwords import hash_password
from tests.console.browser.checks import axe_violations, describe, unreachable_by_tab
from tests.console.browser.conftest import CHOSEN, TABLET
from tests.console.browser.test_register_browser import type_row
from tests.reliability.support import Server

RECEPTION, HOLDING, CAMP = "ADR-RC", "ADR-HF", "ADR-CAMP"
TRUCKLOAD = 500
HOUSEHOLD_SIZE = 5
MEN = 12  # the first twelve households are led by a man of fighting age
HELD = ("TRK-0001", "TRK-0026", "TRK-0051")  # focal points of households 1, 6 and 11
SECURITY_QUEUE = f"/screening?site={RECEPTION}&step=security&sex=male&age_band=18-59"
# Lines of the file (the header is line 1) whose rows the partner got wrong.
BAD_LINES = {19: "nationality", 335: "estimated_age"}
SLOW = 30_000  # ms: a page that plans or receives 500 people


@dataclass
class Reception:
    server: Server
    database_url: str

    @property
    def base(self) -> str:
        return self.server.base_url

    def account(self, name: str, role: str, sites: tuple[str, ...] = (), locale: str = "en") -> str:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            issued = create_account(
                conn, name=name, role=role, sites=sites, locale=locale,
                now=datetime.now(UTC), policy=AccountPolicy(),
            )  # fmt: skip
            store_password(conn, issued.account.account_id, hash_password(CHOSEN), chosen=True)
        return name

    def signed_in(self, browser: Browser, name: str, locale: str = "en") -> Page:
        page = browser.new_context(viewport=TABLET, locale=locale).new_page()
        page.goto(self.base + "/sign-in")
        page.locator("#name").fill(name)
        page.locator("#password").fill(CHOSEN)
        page.locator("form[action='/sign-in'] button[type=submit]").click()
        expect(page).to_have_url(self.base + "/")
        return page


@pytest.fixture
def reception(database_url: str, tmp_path: Path) -> Iterator[Reception]:
    running = Server(database_url, tmp_path / "server")  # with its projector
    running.start()
    try:
        yield Reception(running, database_url)
    finally:
        running.stop()


def truckload_rows() -> list[dict[str, str]]:
    """The partner's list: households of five, a man or a woman at the head of each."""
    rows = []
    for index in range(TRUCKLOAD):
        household, member = divmod(index, HOUSEHOLD_SIZE)
        led_by_a_man = household < MEN
        sex, age = {
            0: ("male" if led_by_a_man else "female", 30 + household % 20),
            1: ("female", 28), 2: ("female", 14), 3: ("male", 9), 4: ("female", 3),
        }[member]  # fmt: skip
        rows.append({
            "registration_number": f"TRK-{index + 1:04d}",
            "given_name": f"Given{index + 1}", "family_name": f"Family{household + 1}",
            "sex": sex, "nationality": "SDN", "estimated_age": str(age),
            "household_id": f"TRK-H{household + 1:03d}",
            "relationship": ("focal_point", "spouse", "child", "child", "child")[member],
        })  # fmt: skip
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def stat(page: Page, label: str) -> str:
    return page.locator(".stat", has_text=label).locator(".stat-value").inner_text()


def test_the_desert_reception_through_the_console_alone(
    browser: Browser, reception: Reception, tmp_path: Path, screenshots: Path
) -> None:
    base = reception.base
    faults: list[str] = []

    def look(page: Page, where: str, *, by_tab: bool = True) -> None:
        """No serious accessibility fault on the form, and every control reached by Tab."""
        faults.extend(describe(where, axe_violations(page)))
        if by_tab:
            faults.extend(f"{where}: not reached by Tab: {c}" for c in unreachable_by_tab(page))

    # --- the site manager opens the sites --------------------------------------------------
    manager = reception.signed_in(browser, reception.account("Mahamat Saleh", "site_manager"))
    for code, name, kind, capacity in (
        (RECEPTION, "Adré reception point", "reception", "1000"),
        (HOLDING, "Adré holding facility", "holding", "50"),
        (CAMP, "Adré camp", "camp", "2000"),
    ):
        manager.goto(base + "/sites/new")
        manager.locator("#code").fill(code)
        manager.locator("#name").fill(name)
        manager.locator("#kind").select_option(kind)
        if code == RECEPTION:
            look(manager, "/sites/new")
            manager.get_by_role("button", name="Open the site").click()
            expect(manager.locator("#capacity-error")).to_be_visible()
            look(manager, "/sites/new (refused)")
        manager.locator("#capacity").fill(capacity)
        manager.get_by_role("button", name="Open the site").click()
        expect(manager).to_have_url(f"{base}/sites/{code}/manage?done=site-opened")

    # --- the registrar: a household from the keyboard, then the truckload's file -------------
    registrar = reception.signed_in(
        browser, reception.account("Achta Brahim", "registrar", (RECEPTION,))
    )
    registrar.goto(f"{base}/register?site={RECEPTION}")
    registrar.locator("#r0-relationship").focus()
    type_row(registrar, ["حليمة", "يوسف", "Halime", "Youssouf", "<choose>", "1990-05-01", "",
                         "SDN", "KBD-0001", "", ""])  # fmt: skip
    registrar.keyboard.press("Tab")
    registrar.keyboard.press("Enter")  # Add a member
    expect(registrar.locator("#r1-relationship")).to_be_focused()
    registrar.keyboard.press("ArrowDown")
    type_row(registrar, ["عثمان", "يوسف", "", "", "<choose>", "", "12", "SDN", "KBD-0002",
                         "", ""])  # fmt: skip
    registrar.screenshot(path=str(screenshots / "story-household-keyed.png"))
    for _ in range(3):  # Add a member, Next household, Save the truckload
        registrar.keyboard.press("Tab")
    expect(registrar.locator(":focus")).to_have_attribute("id", "save")
    registrar.keyboard.press("Enter")
    registrar.wait_for_url("**/register/saved?**")
    expect(registrar.locator("main")).to_contain_text("2 people registered.")

    rows = truckload_rows()
    wrong = [dict(row) for row in rows]
    wrong[min(BAD_LINES) - 2]["nationality"] = "QQQ"
    wrong[max(BAD_LINES) - 2]["estimated_age"] = "200"
    registrar.goto(f"{base}/register?site={RECEPTION}")
    registrar.locator("#file").set_input_files(write_csv(tmp_path / "truck.csv", wrong))
    registrar.get_by_role("button", name="Check the file").click()
    report = registrar.locator("#upload-report")
    expect(report).to_contain_text(f"2 bad rows of {TRUCKLOAD}", timeout=SLOW)
    bad = report.locator("tbody tr")
    expect(bad).to_have_count(2)
    for line, (row, column) in enumerate(zip(bad.all(), BAD_LINES.items(), strict=True)):
        assert row.locator("td").nth(0).inner_text() == str(column[0]), line
        assert row.locator("td").nth(1).inner_text() == column[1]
    registrar.screenshot(path=str(screenshots / "story-upload-checked.png"), full_page=True)
    look(registrar, "/register (file checked, bad rows)", by_tab=False)
    registrar.locator("#file").set_input_files(write_csv(tmp_path / "truck-fixed.csv", rows))
    registrar.get_by_role("button", name="Check the file").click()
    expect(report).to_contain_text(f"{TRUCKLOAD} rows checked, no problem", timeout=SLOW)
    registrar.get_by_role("button", name="Import", exact=True).click()
    expect(report).to_contain_text(f"{TRUCKLOAD} people imported.", timeout=SLOW)

    # --- the screener, in Arabic: the men's security interview ----------------------------
    screener = reception.signed_in(
        browser, reception.account("Hawa Issa", "screener", (RECEPTION,), "ar"), "ar"
    )
    screener.goto(base + SECURITY_QUEUE)
    expect(screener.locator("html")).to_have_attribute("dir", "rtl")
    queue = screener.locator("main table tbody tr")
    expect(queue).to_have_count(MEN)
    look(screener, "/screening (men, security) [ar]")
    screener.screenshot(path=str(screenshots / "story-security-queue-ar.png"), full_page=True)
    for index, number in enumerate(HELD):
        screener.goto(base + SECURITY_QUEUE)
        row = screener.locator("main table tbody tr", has_text=number)
        row.locator("a[href^='/screening/persons/']").click()
        if index == 0:
            look(screener, "/screening/persons/… [ar]")
        # From the keyboard: the outcome (cleared, referred, held), past the notes to the
        # authority and the order's reference, then Enter.
        screener.locator("#outcome").focus()
        screener.keyboard.press("ArrowDown")
        screener.keyboard.press("ArrowDown")
        expect(screener.locator("#outcome")).to_have_value("held")
        screener.keyboard.press("Tab")
        screener.keyboard.press("Tab")
        screener.keyboard.type("Sûreté nationale, Adré")
        if index == 0:
            # Refused, in Arabic, next to the field that is missing; nothing recorded.
            screener.keyboard.press("Enter")
            error = screener.locator("#order_reference-error")
            expect(error).to_be_visible()
            assert re.search(r"[\u0600-\u06ff]", error.inner_text()), error.inner_text()
            screener.screenshot(path=str(screenshots / "story-hold-refused-ar.png"))
            look(screener, "/screening/persons/… (refused) [ar]")
            screener.locator("#order_reference").focus()
        else:
            screener.keyboard.press("Tab")
        expect(screener.locator("#order_reference")).to_be_focused()
        screener.keyboard.type(f"SN-ADR-2026-{index + 1:03d}")
        screener.keyboard.press("Enter")
        expect(screener).to_have_url(re.compile(r"/screening\?"))
    expect(queue).to_have_count(MEN - len(HELD))
    while queue.count():  # the others are cleared, one button each, as the list shrinks
        before = queue.count()
        queue.first.locator("form[action$='/steps'] button[type=submit]").click()
        expect(queue).to_have_count(before - 1)
    screener.goto(f"{base}/screening?site={RECEPTION}&held=1")
    expect(screener.locator("main table tbody tr")).to_have_count(len(HELD))
    screener.locator("main table a[href^='/screening/persons/']").first.click()
    expect(screener.locator("form[action$='/release']")).to_have_count(1)
    look(screener, "/screening/persons/… (held: the release form) [ar]")

    # --- the transfer officer: custody to the holding facility, the rest to the camp -------
    officer = reception.signed_in(
        browser,
        reception.account("Idriss Abakar", "transfer_officer", (RECEPTION, HOLDING, CAMP)),
    )

    def plan(destination: str, order: str, numbers: list[str] | None = None) -> None:
        """Plan from the reception point and dispatch: the people typed by number, or
        (with none given) the held, chosen by the roster's filter and ticked at once."""
        officer.goto(f"{base}/transfers/new?origin={RECEPTION}")
        if numbers is None:
            officer.locator("#status").select_option("held")
            officer.get_by_role("button", name="Show who is there").click()
            officer.get_by_role("link", name="Tick everyone listed").click()
            expect(officer.locator("input[name=person]:checked")).to_have_count(len(HELD))
        else:
            officer.locator("#numbers").fill("\n".join(numbers))
        officer.locator("#destination").select_option(destination)
        officer.locator("#order_reference").fill(order)
        if numbers is None:
            look(officer, "/transfers/new (the held, ticked)")
            officer.screenshot(path=str(screenshots / "story-plan-custody.png"), full_page=True)
        officer.get_by_role("button", name="Plan the transfer").click()
        planned = re.compile(r"/transfers/[0-9a-f-]+\?done=planned")
        expect(officer).to_have_url(planned, timeout=SLOW)
        if numbers is None:
            look(officer, "/transfers/… (planned)")
        officer.get_by_role("button", name="Dispatch", exact=True).click()
        expect(officer.locator("main")).to_contain_text("Dispatched", timeout=SLOW)

    plan(HOLDING, "SN-ADR-2026-T01")
    expect(officer.locator("main")).to_contain_text("3 in custody")
    look(officer, "/transfers/… (on the road)")
    officer.screenshot(path=str(screenshots / "story-custody-transfer.png"), full_page=True)
    for number in HELD:  # ticked from the keyboard
        officer.locator("tr", has_text=number).locator("input[form=receive-form]").focus()
        officer.keyboard.press("Space")
    officer.get_by_role("button", name="Receive", exact=True).focus()
    officer.keyboard.press("Enter")
    # The last of the three received, the transfer reconciled itself: nobody missing.
    expect(officer.locator("main")).to_contain_text("Reconciled")

    everyone = ["KBD-0001", "KBD-0002"] + [r["registration_number"] for r in rows]
    onward = [number for number in everyone if number not in HELD]
    missing = onward[-1]
    plan(CAMP, "ADR-MOVE-2026-11", onward)
    receive = officer.locator("#numbers")
    receive.fill(HELD[0])  # in the holding facility, not on this truck
    officer.get_by_role("button", name="Receive", exact=True).click()
    expect(officer.locator("#numbers-error")).to_contain_text(HELD[0])
    officer.screenshot(path=str(screenshots / "story-receive-refused.png"))
    look(officer, "/transfers/… (receipt refused)", by_tab=False)  # 499 ticks: axe only
    receive.fill("\n".join(onward[:-1]))
    officer.get_by_role("button", name="Receive", exact=True).click()
    received = officer.locator("dl.facts dt", has_text="Received").locator("+ dd")
    expect(received).to_have_text(str(len(onward) - 1), timeout=SLOW)
    officer.locator("#confirm").focus()
    officer.keyboard.press("Space")
    officer.keyboard.press("Tab")
    expect(officer.get_by_role("button", name="Reconcile", exact=True)).to_be_focused()
    officer.keyboard.press("Enter")
    facts = officer.locator("dl.facts")
    expect(facts).to_contain_text("Unaccounted for", timeout=SLOW)
    expect(officer.locator("tr", has_text=missing)).to_contain_text("Unaccounted for")
    officer.screenshot(path=str(screenshots / "story-reconciled.png"))

    # --- the overview: one unaccounted for, three held --------------------------------------
    manager.goto(base + "/overview")
    assert stat(manager, "unaccounted for") == "1"
    assert stat(manager, "held") == str(len(HELD))
    manager.screenshot(path=str(screenshots / "story-overview.png"), full_page=True)
    manager.goto(f"{base}/holds?site={HOLDING}")
    expect(manager.locator("main")).to_contain_text(HELD[1])

    # --- the auditor: a held man's history, each step with who did it; the chain ---------------
    auditor = reception.signed_in(browser, reception.account("Kaltouma Adoum", "auditor"))
    auditor.goto(f"{base}/persons?number={HELD[1]}")  # found: straight to the person
    history = auditor.locator("section[aria-labelledby=history]")
    for actor in ("Achta Brahim", "Hawa Issa", "Idriss Abakar"):
        expect(history).to_contain_text(actor)
    screening = history.locator("li", has_text="Screening step recorded")
    expect(screening).to_contain_text("Hawa Issa")
    expect(screening).to_contain_text("Security interview")  # the step's name, not its code
    expect(screening).to_contain_text("SN-ADR-2026-002")
    custody = history.locator("li", has_text="Transfer received").locator("dd", has_text="Yes")
    expect(custody).to_have_count(1)
    auditor.screenshot(path=str(screenshots / "story-held-history.png"), full_page=True)
    auditor.goto(base + "/audit")
    auditor.locator("#verify-run button[type=submit]").click()
    expect(auditor.locator("#verify-run")).to_contain_text("The chain is intact.", timeout=SLOW)

    assert not faults, "\n".join(faults)
