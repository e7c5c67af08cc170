"""A roster request's query, as one dependency: the filters, name search, order, language,
as-of time and page every download of a roster takes (the XLSX answers with it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from campledger.api.http.lists import Cursor, FormerCursor, Limit
from campledger.api.schemas import NEED_PATTERN, DateTime
from campledger.api.services.rosters import RosterQuery
from campledger.domain.model.values import PersonStatus
from campledger.projections.ages import BAND_NAMES
from campledger.projections.collation import Locale
from campledger.projections.roster_rows import RosterOrder


# A coroutine: nothing here blocks, and FastAPI would run a plain def in its thread pool.
async def roster_query(
    status: Annotated[str | None, Query(json_schema_extra={"enum": list(PersonStatus)})] = None,
    sex: str | None = None,
    # A band outside the vocabulary is refused by the read model (400), as the document states.
    age_band: Annotated[str | None, Query(json_schema_extra={"enum": BAND_NAMES})] = None,
    nationality: str | None = None,
    specific_need: Annotated[
        str | None,
        Query(
            json_schema_extra={"pattern": NEED_PATTERN},
            description="A UNHCR code; a category takes its sub-codes.",
        ),
    ] = None,
    household_id: str | None = None,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Any spelling of the person's name, in either script (محمد finds "
            "Mohamed and Muhammad): every word given must be in the name. Needs "
            "persons:personal. A name with no letters to search by finds nobody.",
        ),
    ] = None,
    sort: Annotated[
        RosterOrder,
        Query(description="`name`: by family name, then given name (needs persons:personal)."),
    ] = RosterOrder.REGISTRATION_NUMBER,
    lang: Annotated[
        Locale,
        Query(
            description="The reader's language: the order of `sort=name`, and for `ar` a "
            "spreadsheet laid out right to left."
        ),
    ] = Locale.EN,
    as_of: Annotated[
        DateTime | None,
        Query(
            description="Field time: who was here then (ids and status only; no "
            "filter, name search or sort goes with it)."
        ),
    ] = None,
    cursor: Cursor = None,
    after: FormerCursor = None,
    limit: Limit = 100,
) -> RosterQuery:
    return RosterQuery(
        status=status, sex=sex, age_band=age_band, nationality=nationality,
        specific_need=specific_need, household_id=household_id, name=name, sort=sort,
        lang=lang, as_of=as_of, cursor=cursor or after, limit=limit,
    )  # fmt: skip
