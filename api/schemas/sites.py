"""Opening a site, changing its capacity, closing it."""

from __future__ import annotations

from pydantic import Field

from campledger.api.schemas.base import Command, CommandPublic
from campledger.api.schemas.examples import FIELD_TIME, example
from campledger.api.schemas.fields import Number, WholeNumber, one_of, required_text
from campledger.domain.model.pcodes import pcode_pattern
from campledger.domain.model.site import MAX_CAPACITY, PCODE_MAX, SITE_CODE_MAX
from campledger.domain.model.values import REASON_MAX, TEXT_MAX, SiteKind

# domain.pcodes.parse_pcode: blank, or an ISO 3166-1 country code then letters and digits.
PCODE = pcode_pattern()
PCODE_RULE = (
    "An OCHA COD p-code: an ISO 3166-1 country code (alpha-2, or alpha-3 in older "
    "datasets; XK for Kosovo), then letters and digits, in any case (stored in capitals)."
)
ADMIN1_RULE = (
    f"{PCODE_RULE} When a gazetteer of its country is loaded (`campledger gazetteer load`), "
    "it must be an admin1 p-code of that gazetteer (`unknown-pcode`)."
)
ADMIN2_RULE = (
    f"{PCODE_RULE} It must start with admin1_pcode when both are given "
    "(`admin2-outside-admin1`). When a gazetteer of its country is loaded, it must be an "
    "admin2 p-code of that gazetteer, under admin1_pcode there (`unknown-pcode`, "
    "`admin2-outside-admin1`)."
)


class SiteCreate(Command):
    model_config = example(
        {"code": "RC-ADRE", "name": "Adré reception point", "kind": "reception", "capacity": 2500,
         "admin1_pcode": "TD09", "admin2_pcode": "TD0901", "latitude": 13.4667, "longitude": 22.2,
         "occurred_at": FIELD_TIME}
    )  # fmt: skip

    # domain.site.check_site_code: letters, digits, '-', '_' and '.' (around white space).
    code: str = Field(
        max_length=SITE_CODE_MAX,
        examples=["RC-ADRE"],
        json_schema_extra={"pattern": r"^\s*[\w.-]+\s*$"},
    )
    name: str = required_text(TEXT_MAX, examples=["Adré reception point"])
    kind: str = one_of(SiteKind, examples=["reception"])
    capacity: WholeNumber = Field(ge=0, le=MAX_CAPACITY)
    admin1_pcode: str | None = Field(
        default=None,
        max_length=PCODE_MAX,
        description=ADMIN1_RULE,
        examples=["TD09"],
        json_schema_extra={"pattern": PCODE},
    )
    admin2_pcode: str | None = Field(
        default=None,
        max_length=PCODE_MAX,
        description=ADMIN2_RULE,
        examples=["TD0901"],
        json_schema_extra={"pattern": PCODE},
    )
    latitude: Number | None = Field(default=None, json_schema_extra={"minimum": -90, "maximum": 90})
    longitude: Number | None = Field(
        default=None, json_schema_extra={"minimum": -180, "maximum": 180}
    )


class CapacityChange(Command):
    model_config = example({"capacity": 3000, "reason": "second shelter block finished"})

    capacity: WholeNumber = Field(ge=0, le=MAX_CAPACITY)
    reason: str = Field(default="", max_length=REASON_MAX)


class SiteClose(Command):
    model_config = example({"reason": "caseload moved to Farchana camp", "occurred_at": FIELD_TIME})

    reason: str = Field(default="", max_length=REASON_MAX)


class SiteCommandPublic(CommandPublic):
    site_code: str
