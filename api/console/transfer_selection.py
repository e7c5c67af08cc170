"""Which of the origin's people the planning form lists to tick: everyone there, or only
the held, the men of fighting age, one household... as the URL (and the form, when it is
sent back refused) carries it. "Tick everyone listed" ticks the page shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from campledger.api.console.reading import query_string
from campledger.api.services.rosters import RosterQuery
from campledger.domain.model.arrival import IDENTIFIER_MAX
from campledger.domain.model.values import AGE_BANDS, PersonStatus, Sex

# Who can be on a manifest: people at the site, free or held (held ones travel in custody).
STATUSES = (PersonStatus.PRESENT.value, PersonStatus.HELD.value)
SEXES = tuple(sex.value for sex in Sex)
BANDS = tuple(name for name, _, _ in AGE_BANDS)


@dataclass(frozen=True)
class Selection:
    """The roster's filters the officer chose; a value outside its list is dropped, as a
    filter left empty (the roster service checks the household id like any other)."""

    status: str = ""
    sex: str = ""
    age_band: str = ""
    household_id: str = ""

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> Selection:
        values = {f.name: str(given.get(f.name, "")).strip() for f in fields(cls)}
        allowed = {"status": STATUSES, "sex": SEXES, "age_band": BANDS}
        for name, choices in allowed.items():
            if values[name] not in choices:
                values[name] = ""
        values["household_id"] = values["household_id"][:IDENTIFIER_MAX]
        return cls(**values)

    @property
    def chosen(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def query(self, cursor: str | None, limit: int) -> RosterQuery:
        return RosterQuery(
            status=self.status or None,
            sex=self.sex or None,
            age_band=self.age_band or None,
            household_id=self.household_id or None,
            cursor=cursor,
            limit=limit,
        )

    def items(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def link(self, **more: str | None) -> str:
        return query_string(self.items() | more)
