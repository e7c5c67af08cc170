"""English, Arabic (right to left) and French: chosen per account, catalogues complete
and compiled, numbers and dates as each locale writes them."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from campledger.api.console.i18n import LOCALE_DIR, Formats, negotiate
from tests.console.conftest import Console

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("ar", "fr")


def test_an_arabic_account_gets_right_to_left_pages_in_arabic(console: Console) -> None:
    browser = console.signed_in("registrar", sites=["TIN-RC"], locale="ar")
    home = browser.get("/")
    assert '<html lang="ar" dir="rtl">' in home.text
    for arabic in ("حسابك", "مسجِّل", "تسجيل الخروج", "الرئيسية"):
        assert arabic in home.text
    assert "Your account" not in home.text and "Sign out" not in home.text


def test_a_french_account_gets_french_pages_written_left_to_right(console: Console) -> None:
    home = console.signed_in("auditor", locale="fr").get("/")
    assert '<html lang="fr" dir="ltr">' in home.text
    assert "Votre compte" in home.text and "Tous les sites" in home.text


def test_the_language_is_changed_on_its_page_and_kept_with_the_account(
    console: Console,
) -> None:
    name, password = console.account("screener")
    browser = console.browser()
    browser.sign_in(name, password)
    browser.get("/language")
    changed = browser.submit("/language", {"locale": "ar"})
    assert changed.headers["location"] == "/language?done=language-changed"
    page = browser.get(changed.headers["location"])
    assert 'dir="rtl"' in page.text and "تم تغيير لغتك." in page.text
    # Another device, another browser language: the account's language wins.
    elsewhere = console.browser()
    elsewhere.sign_in(name, password)
    assert 'lang="ar"' in elsewhere.get("/", headers={"Accept-Language": "fr"}).text


def test_an_unknown_language_is_refused(console: Console) -> None:
    browser = console.signed_in()
    browser.get("/language")
    assert browser.submit("/language", {"locale": "tlh"}).status_code == 400


def test_before_sign_in_the_page_speaks_the_browsers_language_or_the_one_chosen(
    console: Console,
) -> None:
    browser = console.browser()
    arabic = browser.get("/sign-in", headers={"Accept-Language": "ar-TD,fr;q=0.5"})
    assert 'dir="rtl"' in arabic.text and "تسجيل الدخول" in arabic.text
    french = browser.get("/sign-in?lang=fr", headers={"Accept-Language": "ar"})
    assert "Se connecter" in french.text and 'dir="ltr"' in french.text
    refused = browser.submit("/sign-in", {"name": "nobody", "password": "x"})
    assert "Le nom ou le mot de passe n’est pas correct." not in refused.text  # no ?lang here
    assert "The name or the password is not right." in refused.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [("ar-SD,ar;q=0.9,en;q=0.8", "ar"), ("fr-TD", "fr"), ("de, en;q=0.1", "en"),
     ("", "en"), ("en;q=0.1, fr;q=0.9", "fr"), ("x;q=nonsense", "en")],
)  # fmt: skip
def test_the_browsers_language_is_negotiated(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_numbers_and_dates_are_written_as_each_locale_writes_them() -> None:
    moment = datetime(2026, 3, 1, 8, 5, tzinfo=UTC)
    zone = ZoneInfo("Africa/Ndjamena")  # UTC+1
    assert Formats("en", zone).number(12345) == "12,345"
    assert Formats("fr", zone).number(12345) == "12\u202f345"
    assert Formats("en", zone).datetime(moment) == "Mar 1, 2026, 9:05:00\u202fAM"
    assert Formats("fr", zone).datetime(moment) == "1 mars 2026, 09:05:00"
    arabic = Formats("ar", zone).datetime(moment)
    assert "٢٠٢٦" in arabic or "2026" in arabic  # CLDR's own digits for Arabic
    assert Formats("ar", zone).direction == "rtl" and Formats("fr", zone).direction == "ltr"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated(locale: str) -> None:
    template = {m.id for m in read_po((LOCALE_DIR / "messages.pot").open("rb")) if m.id}
    catalogue = read_po((LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb"))
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    assert template - translated == set()


@pytest.mark.parametrize("locale", TRANSLATED)
def test_each_compiled_catalogue_is_its_po_file_compiled(locale: str) -> None:
    """The .mo files are committed (a wheel and a fresh checkout need no build step);
    `make messages` recompiles them, and this fails when one was forgotten."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, read_po((folder / "messages.po").open("rb")))
    assert (folder / "messages.mo").read_bytes() == compiled.getvalue()


def test_the_template_holds_every_message_of_the_code(tmp_path: Path) -> None:
    """No message is shown untranslated because `make messages` was not run."""
    extracted = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).with_name("pybabel")), "-q", "extract",
         "-F", "api/console/babel.cfg", "-o", str(extracted), "--no-location",
         "--sort-output", "--omit-header", "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    fresh = {m.id for m in read_po(extracted.open("rb")) if m.id}
    kept = {m.id for m in read_po((LOCALE_DIR / "messages.pot").open("rb")) if m.id}
    assert fresh == kept
