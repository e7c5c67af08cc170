"""How names sort in each language of the console: sort keys computed here, not by the server.

A roster sorted by name must list Ahmed, Öztürk and Ozturk where a reader expects them,
and آدم before أحمد before بشير: the Unicode Collation Algorithm (``pyuca``, MIT licence,
with its default table). PostgreSQL could collate with ICU, but the embedded server is
built without it and a libc locale differs from one machine to the next; keys computed
here give the same order on every server, and compare as plain bytes (``bytea``) in an
index.

The locales differ in two ways:

- **English** sorts by the name's Latin form when one is recorded, else by the name as
  written; the default table puts Latin letters before Arabic script.
- **Arabic** sorts by the name as the person writes it, and puts Arabic-script names
  first, as an Arabic reader expects; Latin names follow in their own order.

Both sort by family name, then given name. A key reveals the name it was made from: it is
personal data, kept beside the names and never shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from functools import cache

from pyuca import Collator

from campledger.projections.scripts import is_arabic


class Locale(StrEnum):
    EN = "en"
    AR = "ar"


# Between family and given name: below every weight, so "Ali" sorts before "Ali Hassan".
_SEPARATOR = b"\x00\x00"
_ARABIC_FIRST, _OTHER_SCRIPTS = b"\x00", b"\x01"


@cache
def _collator() -> Collator:
    return Collator()  # reads the default table once: ~0.1 s


# Name parts already keyed, while a batch of events is applied (``remembering``).
_memo: ContextVar[dict[str, bytes] | None] = ContextVar("collation_memo", default=None)


@contextmanager
def remembering() -> Iterator[None]:
    """Within, each name part is keyed once: the Unicode Collation Algorithm in Python
    costs more than everything else a registration asks of the roster, and a truckload
    or a log repeats the same names again and again. Forgotten on the way out, so that
    no name outlives the batch or rebuild that read it (a key reveals its name)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _key(text: str) -> bytes:
    memo = _memo.get()
    if memo is None:
        return _weights(text)
    key = memo.get(text)
    if key is None:
        key = memo[text] = _weights(text)
    return key


def _weights(text: str) -> bytes:
    # Weights of the default table fit 16 bits; big-endian pairs compare as the tuple does.
    return b"".join(w.to_bytes(2, "big") for w in _collator().sort_key(text))


def name_order(
    locale: Locale,
    given_name: str | None,
    family_name: str | None,
    given_name_latin: str | None = None,
    family_name_latin: str | None = None,
) -> bytes:
    """The key a roster sorted by name in ``locale`` orders this person by."""
    if locale is Locale.EN and (given_name_latin or family_name_latin):
        given, family = given_name_latin or "", family_name_latin or ""
    else:
        given, family = given_name or "", family_name or ""
    key = _key(family) + _SEPARATOR + _key(given)
    if locale is Locale.AR:
        return (_ARABIC_FIRST if is_arabic(family or given) else _OTHER_SCRIPTS) + key
    return key
