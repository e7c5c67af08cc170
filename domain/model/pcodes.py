"""Admin-area p-codes, by their shape alone: what can be checked without a gazetteer.

OCHA's Common Operational Datasets (COD) name admin areas by p-codes: a country prefix
(ISO 3166-1 alpha-2 nearly everywhere, alpha-3 in a few older datasets), then the codes of
the areas it lies in and its own (TD09, TD0901: admin1 TD09, the Ouaddaï, holds admin2
TD0901). So an admin2 p-code starts with its admin1 p-code. Whether a p-code names a real
area is for a gazetteer to say (``api/services/gazetteer.py``).
"""

from __future__ import annotations

from functools import lru_cache

import pycountry

from campledger.domain.model import errors

PCODE_MAX = 20

# Kosovo's p-codes start XK, the user-assigned code OCHA and the EU use; ISO has none.
EXTRA_PREFIXES = frozenset({"XK"})


@lru_cache(maxsize=1)
def country_prefixes() -> tuple[frozenset[str], frozenset[str]]:
    """The two- and three-letter country codes a p-code may start with."""
    two = frozenset({c.alpha_2 for c in pycountry.countries} | EXTRA_PREFIXES)
    three = frozenset(c.alpha_3 for c in pycountry.countries)
    return two, three


def country_of(code: str) -> str | None:
    """The country prefix of an upper-case p-code, or None if it starts with no ISO code.
    A three-letter prefix wins only where it is a country's alpha-3 code (UKR01)."""
    two, three = country_prefixes()
    if len(code) > 3 and code[:3] in three:
        return code[:3]
    if len(code) > 2 and code[:2] in two:
        return code[:2]
    return None


def pcode_pattern() -> str:
    """``parse_pcode``'s rule as a JSON-schema pattern (which has no flags: each letter
    of a prefix is written in both cases): blank, or a country prefix then letters and
    digits."""
    two, three = country_prefixes()
    prefixes = "|".join("".join(f"[{c}{c.lower()}]" for c in p) for p in sorted(three | two))
    return rf"^\s*$|^\s*(?:{prefixes})[^\W_]{{1,{PCODE_MAX - 2}}}\s*$"


def parse_pcode(level: str, value: str | None) -> str | None:
    """A p-code in capitals, or None when blank; ``level`` ('admin1', 'admin2') names the
    field in the refusal."""
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    prefix = country_of(code)
    if prefix is None or len(code) > PCODE_MAX or not code[len(prefix) :].isalnum():
        raise errors.InvalidPcode(
            f"{level} p-code must start with an ISO 3166-1 country code followed by letters "
            f"and digits, {PCODE_MAX} characters at most (e.g. SD01, SD01001)",
            field=f"{level}_pcode",
        )
    return code


def parse_pcodes(admin1: str | None, admin2: str | None) -> tuple[str | None, str | None]:
    """Both p-codes of a site, checked; an admin2 p-code must lie under its admin1."""
    one, two = parse_pcode("admin1", admin1), parse_pcode("admin2", admin2)
    if one is not None and two is not None and (len(two) <= len(one) or not two.startswith(one)):
        raise errors.Admin2OutsideAdmin1(
            f"admin2 p-code {two} does not start with its admin1 p-code {one}",
            field="admin2_pcode",
        )
    return one, two
