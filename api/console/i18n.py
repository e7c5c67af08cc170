"""The console's languages: message catalogues, the reader's language, numbers and dates.

Catalogues are Babel's ``.po`` files under ``locales/`` with their compiled ``.mo`` beside
them, both committed (so a wheel or a fresh checkout carries them with no build step;
``make messages`` extracts, updates and compiles, and ``tests/console/test_i18n.py``
fails when a ``.mo`` is not the compilation of its ``.po``). English is the source
language and needs no catalogue.

Numbers and dates follow CLDR for the reader's locale (Babel), in the operation's time
zone; Arabic is written right to left, which the layout gets from ``dir="rtl"`` and CSS
logical properties.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from gettext import NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.support import Translations

from campledger.api.services.accounts import DEFAULT_LOCALE, LOCALES

LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
# Each language named in itself, for the language switch (a reader of Arabic only must
# find "العربية", not "Arabic").
NATIVE_NAMES = {"en": "English", "ar": "العربية", "fr": "Français"}


def N_(message: str) -> str:
    """Mark a message for the catalogue, translated where it is shown."""
    return message


@functools.cache
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(LOCALE_DIR, [locale], DOMAIN)


def supported(locale: str | None) -> str | None:
    return locale if locale in LOCALES else None


def negotiate(accept_language: str | None) -> str:
    """The reader's language from the browser's ``Accept-Language``, before sign-in."""
    preferred = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            preferred.append((quality, tag))
    ordered = [tag for _, tag in sorted(preferred, key=lambda item: -item[0])]
    return negotiate_locale(ordered, list(LOCALES), sep="-") or DEFAULT_LOCALE


@dataclass(frozen=True)
class Formats:
    """Numbers and dates as a reader of this locale writes them."""

    locale: str
    zone: ZoneInfo

    @property
    def direction(self) -> str:
        return "rtl" if Locale.parse(self.locale).text_direction == "rtl" else "ltr"

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale, numbering_system="default")

    def datetime(self, value: datetime) -> str:
        return format_datetime(value, "medium", tzinfo=self.zone, locale=self.locale)

    def date(self, value: date | str) -> str:
        # Read models give a date of birth as text: in full, or its year alone (1985),
        # which is shown as it is, not as a day.
        if isinstance(value, str):
            if len(value) == 4:
                return value
            value = date.fromisoformat(value)
        return format_date(value, "long", locale=self.locale)
