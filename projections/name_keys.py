"""What the roster keeps of a name to find and sort people by: the sound key of every word
of both forms of the name (``names.search_keys``) and a sort key per console language
(``collation.name_order``). Made from the four name fields whenever one of them changes;
a key reveals the name, so none is ever returned.
"""

from __future__ import annotations

from typing import Any

from campledger.projections.collation import Locale, name_order
from campledger.projections.names import search_keys

# The person's name fields the keys are made from, in this order.
NAME_FIELDS = ("given_name", "family_name", "given_name_latin", "family_name_latin")
# The roster's columns that hold the keys.
KEY_COLUMNS = ("name_keys", *(f"name_order_{locale}" for locale in Locale))


def name_keys(
    given: str, family: str | None, given_latin: str | None, family_latin: str | None
) -> dict[str, Any]:
    """Each of ``KEY_COLUMNS`` with its value for this name."""
    return {
        "name_keys": search_keys(given, family, given_latin, family_latin),
        **{
            f"name_order_{locale}": name_order(locale, given, family, given_latin, family_latin)
            for locale in Locale
        },
    }
