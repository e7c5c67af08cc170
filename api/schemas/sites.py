"""Opening a site, changing its capacity, closing it."""

from __future__ import annotations

from pydantic import Field

from campledger.api.schemas.base import Command, CommandPublic
from campledger.api.schemas.fields import Number, WholeNumber, one_of, required_text
from campledger.domain.model.site import MAX_CAPACITY, PCODE_MAX, SITE_CODE_MAX
from campledger.domain.model.values import REASON_MAX, TEXT_MAX, SiteKind

# domain.site._pcode: blank, or two letters then letters and digits (SD01, SD01001).
PCODE = r"^\s*$|^\s*[^\W\d_]{2}[^\W_]{1,18}\s*$"


class SiteCreate(Command):
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
        default=None, max_length=PCODE_MAX, json_schema_extra={"pattern": PCODE}
    )
    admin2_pcode: str | None = Field(
        default=None, max_length=PCODE_MAX, json_schema_extra={"pattern": PCODE}
    )
    latitude: Number | None = Field(default=None, json_schema_extra={"minimum": -90, "maximum": 90})
    longitude: Number | None = Field(
        default=None, json_schema_extra={"minimum": -180, "maximum": 180}
    )


class CapacityChange(Command):
    capacity: WholeNumber = Field(ge=0, le=MAX_CAPACITY)
    reason: str = Field(default="", max_length=REASON_MAX)


class SiteClose(Command):
    reason: str = Field(default="", max_length=REASON_MAX)


class SiteCommandPublic(CommandPublic):
    site_code: str
