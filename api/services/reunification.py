"""Where a separated household would come together again, and who would have to move.

A person joins their household's site by a transfer like any other (the log has no
reunification of its own): the console offers each member free to travel, and away from
the household's home site, a transfer planned to it. Pure: it reads household member
rows as ``projections/households.py`` gives them, nothing else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from campledger.domain.model.values import PersonStatus

Member = Mapping[str, Any]


def home_site(members: Iterable[Member]) -> str | None:
    """The site where most of the household's members present at a site are (on a tie,
    the first code in order); None when none of them is.

    Held members are not counted: a family is never asked to join a holding facility,
    and whoever is held moves only in custody anyway."""
    counts: Counter[str] = Counter(m["site_code"] for m in members if _present(m))
    if not counts:
        return None
    return min(counts, key=lambda code: (-counts[code], code))


@dataclass(frozen=True)
class Reunion:
    """A household's home site and its members at other sites: the free ones, who may
    travel there by transfer, and the held ones, who may not until released."""

    home: str | None
    free: Sequence[Member] = ()
    held: Sequence[Member] = ()


def reunion(members: Sequence[Member]) -> Reunion:
    home = home_site(members)
    if home is None:
        return Reunion(None)
    away = [m for m in members if m["site_code"] not in (None, home)]
    return Reunion(
        home,
        free=[m for m in away if _present(m)],
        held=[m for m in away if m["status"] == PersonStatus.HELD],
    )


def _present(member: Member) -> bool:
    # A departed person keeps the site they left: the status says who is still there.
    return member["status"] == PersonStatus.PRESENT and member["site_code"] is not None
