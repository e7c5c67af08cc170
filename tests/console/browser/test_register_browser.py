"""A household registered from the keyboard alone, in Chromium: Tab through each row's
fields in reading order, Enter on "Add a member" (htmx draws the row and puts the cursor
in it), Enter on "Save the truckload"; in English and in Arabic (right to left)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console.browser.conftest import TABLET, DemoServer

COLUMNS_AFTER_RELATIONSHIP = 11  # given name … specific needs
HEADER = "registration_number,given_name,family_name,sex,nationality,estimated_age\n"


def type_row(page: Page, values: list[str]) -> None:
    """From the row's relationship field: choose the first relationship, then each field
    in turn (an empty value leaves the field empty), Tab between them."""
    page.keyboard.press("ArrowDown")
    for value in values:
        page.keyboard.press("Tab")
        if value == "<choose>":
            page.keyboard.press("ArrowDown")
        elif value:
            page.keyboard.type(value)
    assert len(values) == COLUMNS_AFTER_RELATIONSHIP


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_a_household_is_entered_with_the_keyboard_only_and_saved(
    browser: Browser, demo_server: DemoServer, locale: str
) -> None:
    context = browser.new_context(viewport=TABLET, locale=locale)
    page = context.new_page()
    demo_server.sign_in(page, *demo_server.account("registrar", locale=locale))
    page.goto(demo_server.base_url + "/register")
    code = page.locator("#site option").nth(1).get_attribute("value")
    page.goto(f"{demo_server.base_url}/register?site={code}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
    stamp = f"{locale.upper()}-{page.evaluate('Date.now()')}"
    # The cursor starts in the first row; from there on, the keyboard only.
    page.locator("#r0-relationship").focus()
    type_row(page, ["حليمة", "يوسف", "Halime", "Youssouf", "<choose>", "1990-05-01", "",
                    "SDN", f"{stamp}-1", "", ""])  # fmt: skip
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("أضف فردًا" if locale == "ar" else "Add a member")
    page.keyboard.press("Enter")
    # htmx drew the row and put the cursor in it, in the same household.
    expect(page.locator("#r1-relationship")).to_be_focused()
    household = page.locator("#r0-household_id").input_value()
    assert page.locator("#r1-household_id").input_value() == household
    page.keyboard.press("ArrowDown")  # focal point, then on to spouse
    type_row(page, ["عثمان", "يوسف", "", "", "<choose>", "", "12", "sdn", f"{stamp}-2",
                    "", "SM"])  # fmt: skip
    # The live check of the row said nothing is wrong with it.
    expect(page.locator("#r1-status")).not_to_contain_text("!")
    page.keyboard.press("Tab")  # Add a member
    page.keyboard.press("Tab")  # Next household
    page.keyboard.press("Tab")  # Save the truckload
    expect(page.locator(":focus")).to_have_attribute("id", "save")
    page.keyboard.press("Enter")
    page.wait_for_url("**/register/saved?**")
    done = "2 people registered." if locale == "en" else "سُجّل"
    expect(page.locator("main")).to_contain_text(done)
    context.close()


def test_a_file_is_checked_then_imported_without_choosing_it_again(
    browser: Browser, demo_server: DemoServer, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=TABLET)
    demo_server.sign_in(page, *demo_server.account("registrar"))
    page.goto(demo_server.base_url + "/register")
    code = page.locator("#site option").nth(1).get_attribute("value")
    page.goto(f"{demo_server.base_url}/register?site={code}")
    stamp = page.evaluate("Date.now()")
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(f"{HEADER}UP-{stamp}-1,Amina,Haroun,female,QQQ,30\n")
    good.write_text(f"{HEADER}UP-{stamp}-2,Amina,Haroun,female,SDN,30\n"
                    f"UP-{stamp}-3,Idris,Haroun,male,SDN,8\n")  # fmt: skip
    page.locator("#file").set_input_files(bad)
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#upload-report")).to_contain_text("nationality")
    page.locator("#file").set_input_files(good)
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#upload-report")).to_contain_text("2 rows checked, no problem")
    # The check replaced its report only: the file is still chosen, and goes with Import.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#upload-report")).to_contain_text("2 people imported.")
    page.close()
