"""Request and response bodies: ``XCreate`` comes in, ``XPublic`` goes out.

Request models forbid unknown fields: a typo in a field name is an error, not a silently
dropped value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args
from uuid import UUID

from annotated_types import Interval
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from campledger.domain.model.arrival import LATIN_NAME_PATTERN, Arrival
from campledger.domain.model.corrections import CORRECTABLE
from campledger.domain.model.needs import LEGACY_NEEDS, NEED_CODES
from campledger.domain.model.registration_numbers import (
    REGISTRATION_NUMBER_MAX,
    REGISTRATION_NUMBER_RULE,
    registration_number_pattern,
)
from campledger.domain.model.values import (
    DepartureReason,
    Relationship,
    ScreeningOutcome,
    ScreeningStep,
    Sex,
    SiteKind,
    nationality_codes,
    unstorable,
)
from campledger.projections.paging import CURSOR_PATTERN

Item = TypeVar("Item")

Text = Field(max_length=200)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        # The domain's rule (domain.values.unstorable), applied to the values as sent so
        # that each field is named and the rule wins over the field's others (a NUL in a
        # 3-letter code is unstorable, not too long): one problem type from every way in.
        # Nested models check their own fields, so a sync queue's items are each checked
        # as they are parsed (api.sync) and one bad item is rejected alone. (A model
        # validator, as pydantic allows no field validator on the tag of a sync item.)
        if not isinstance(data, dict):
            return data
        found = [
            InitErrorDetails(
                type=PydanticCustomError(UNSTORABLE_ERROR, reason), loc=(name,), input=value
            )
            for name, value in data.items()
            if name in cls.model_fields
            and not _holds_models(cls, name)
            and (reason := unstorable(value)) is not None
        ]
        if found:
            raise ValidationError.from_exception_data(cls.__name__, found)
        return data


@cache
def _holds_models(model: type[BaseModel], name: str) -> bool:
    """Whether a field's type is (or contains) a model, which validates its own fields."""
    pending = [model.model_fields[name].annotation]
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return True
        pending.extend(get_args(kind))
    return False


# The pydantic error type of an unstorable value; api.problems answers it as the domain's
# ``unstorable-value`` problem, whichever way in it came from.
UNSTORABLE_ERROR = "unstorable_value"


# The domain's rules on single values, stated in the OpenAPI document only: the domain
# still enforces them with its own problems (invalid-input, invalid-screening-step, ...),
# the same from every way in (HTTP, sync, import), so pydantic does not check them twice.
# Text the domain requires (domain.values.check_text): one character that is not white
# space, and no NUL.
REQUIRED_TEXT = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


def required_text(max_length: int, **field: Any) -> Any:
    return Field(max_length=max_length, json_schema_extra={"pattern": REQUIRED_TEXT}, **field)


def one_of(values: Iterable[str], **field: Any) -> Any:
    return Field(json_schema_extra={"enum": list(values)}, **field)


def any_case(codes: Iterable[str], *, padded: bool = False) -> str:
    """A pattern taking exactly these codes, in any mix of capitals and small letters (and
    with surrounding blanks, if ``padded``), as the domain does: an enum would call "sdn"
    invalid where the server accepts it.

    Stated in the document only: the domain refuses anything else with its own error,
    which names the codes to use, where a pattern's error would quote the whole pattern.
    """
    spelled = (
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else _literal(c) for c in code)
        for code in sorted(set(codes))
    )
    blank = r"\s*" if padded else ""
    return f"^{blank}(?:{'|'.join(spelled)}){blank}$"


def _literal(char: str) -> str:
    # "-" and "_" stand for themselves outside a class: escaped, ECMAScript's unicode
    # mode (how JavaScript clients check patterns) refuses the whole pattern.
    return char if char.isalnum() or char in "-_" else re.escape(char)


NATIONALITY_PATTERN = any_case(nationality_codes())
# Standard codes, and the first release's codes, which devices may still send.
NEED_PATTERN = any_case(NEED_CODES | LEGACY_NEEDS.keys(), padded=True)
NeedCode = Annotated[str, Field(json_schema_extra={"pattern": NEED_PATTERN})]


# RFC 3339, as ``format: date-time`` and ``format: date`` say: pydantic alone would also
# read a number (0.5, or "86400" in a query) as seconds since 1970, so a field or parameter
# the document calls a date-time or a date would take what is not one.
_RFC_3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rfc_3339(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC_3339.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with its offset, e.g. 2025-03-01T08:00:00Z")


def _full_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _FULL_DATE.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date, e.g. 2025-03-01")


DateTime = Annotated[AwareDatetime, BeforeValidator(_rfc_3339)]
Date = Annotated[date, BeforeValidator(_full_date)]


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


def _not_a_boolean_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


# A JSON integer (5 and 5.0 alike), never true or false: pydantic would read true as 1,
# which the document's "integer" does not allow.
WholeNumber = Annotated[int, BeforeValidator(_not_a_boolean)]
Age = Annotated[int, Interval(ge=0, le=130), BeforeValidator(_not_a_boolean)]
# Likewise a coordinate: false is no latitude.
Number = Annotated[float, BeforeValidator(_not_a_boolean_number)]


class Command(Strict):
    occurred_at: DateTime | None = Field(
        default=None, description="When it happened in the field (default: now)."
    )


# --- sites -------------------------------------------------------------------------------


# domain.site._pcode: blank, or two letters then letters and digits (SD01, SD01001).
PCODE = r"^\s*$|^\s*[^\W\d_]{2}[^\W_]{1,18}\s*$"


class SiteCreate(Command):
    # domain.site.check_site_code: letters, digits, '-', '_' and '.' (around white space).
    code: str = Field(
        max_length=40, examples=["RC-ADRE"], json_schema_extra={"pattern": r"^\s*[\w.-]+\s*$"}
    )
    name: str = required_text(200, examples=["Adré reception point"])
    kind: str = one_of(SiteKind, examples=["reception"])
    capacity: WholeNumber = Field(ge=0, le=10_000_000)
    admin1_pcode: str | None = Field(
        default=None, max_length=20, json_schema_extra={"pattern": PCODE}
    )
    admin2_pcode: str | None = Field(
        default=None, max_length=20, json_schema_extra={"pattern": PCODE}
    )
    latitude: Number | None = Field(default=None, json_schema_extra={"minimum": -90, "maximum": 90})
    longitude: Number | None = Field(
        default=None, json_schema_extra={"minimum": -180, "maximum": 180}
    )


class CapacityChange(Command):
    capacity: WholeNumber = Field(ge=0, le=10_000_000)
    reason: str = Field(default="", max_length=500)


class SiteClose(Command):
    reason: str = Field(default="", max_length=500)


class CommandPublic(BaseModel):
    position: int = Field(description="Log position of the command's last event.")
    replayed: bool = Field(description="True when the Idempotency-Key was seen before.")


class SiteCommandPublic(CommandPublic):
    site_code: str


# --- arrivals ------------------------------------------------------------------------------


class ArrivalCreate(Strict):
    # The domain needs one of the two to place the person in an age band: say so, so that a
    # client (or a generator) knows an arrival with neither is refused.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["date_of_birth"],
                    "properties": {"date_of_birth": {"type": "string"}},
                },
                {
                    "required": ["estimated_age"],
                    "properties": {"estimated_age": {"type": "integer"}},
                },
            ]
        }
    )

    registration_number: str = Field(
        max_length=REGISTRATION_NUMBER_MAX,
        examples=["ADR-2025-000123"],
        description=REGISTRATION_NUMBER_RULE,
        json_schema_extra=lambda schema: schema.update(pattern=registration_number_pattern()),
    )
    given_name: str = required_text(
        200, description="As the person writes it, in any script (Arabic, Latin, Cyrillic…)."
    )
    family_name: str = Field(default="", max_length=200)
    given_name_latin: str | None = Field(
        default=None,
        max_length=200,
        json_schema_extra={"pattern": LATIN_NAME_PATTERN},
        description="The given name in Latin letters (as on UNHCR documents), when "
        "`given_name` is written in another script.",
    )
    family_name_latin: str | None = Field(
        default=None,
        max_length=200,
        json_schema_extra={"pattern": LATIN_NAME_PATTERN},
        description="The family name in Latin letters, likewise.",
    )
    sex: str = one_of(Sex, max_length=20)
    nationality: str = Field(
        max_length=3,
        json_schema_extra={"pattern": NATIONALITY_PATTERN},
        description="ISO 3166-1 alpha-3, or XXA/XXB/XXC/XXX/ZZZ for stateless or unknown",
    )
    date_of_birth: Date | None = None
    estimated_age: Age | None = None
    household_id: str | None = Field(default=None, max_length=128)
    relationship: str | None = one_of(Relationship, default=None, max_length=40)
    biometric_reference: str | None = Field(default=None, max_length=128)
    specific_needs: list[NeedCode] = Field(
        default_factory=list,
        max_length=20,
        description="UNHCR specific-needs codes (docs/specific-needs.md), any case.",
    )
    occurred_at: DateTime | None = None
    person_id: UUID | None = Field(default=None, description="Minted by an offline device.")

    def to_arrival(self) -> Arrival:
        return Arrival(
            registration_number=self.registration_number,
            given_name=self.given_name,
            family_name=self.family_name,
            given_name_latin=self.given_name_latin,
            family_name_latin=self.family_name_latin,
            sex=self.sex,
            nationality=self.nationality,
            date_of_birth=self.date_of_birth,
            estimated_age=self.estimated_age,
            household_id=self.household_id,
            relationship=self.relationship,
            biometric_reference=self.biometric_reference,
            specific_needs=tuple(self.specific_needs),
            occurred_at=self.occurred_at,
            person_id=self.person_id,
        )


class SingleArrivalCreate(ArrivalCreate):
    site_code: str = required_text(40)


class ArrivalBatchCreate(Strict):
    site_code: str = required_text(40)
    # The limit of 1,000 is the domain's; a longer list gets 413 from it, not a schema 422.
    arrivals: list[ArrivalCreate] = Field(json_schema_extra={"minItems": 1})


class ArrivalPublic(CommandPublic):
    person_id: UUID


class ArrivalBatchPublic(CommandPublic):
    person_ids: list[UUID]


# --- persons --------------------------------------------------------------------------------


# A hold is decided by an authority under an order: every way in for people asks for both
# (HTTP and offline sync share these bodies). A release should name them too; it may not
# know them (a review board's minutes arrive later), so there they are recommended only.
Authority = Field(
    max_length=200,
    min_length=1,
    examples=["Governor of Ouaddaï"],
    description="Who decided: the authority (an office, not a person's name).",
)
OrderReference = Field(
    max_length=100,
    min_length=1,
    examples=["GOV-OUA-2025-114"],
    description="The reference of the order the decision was made under.",
)
ReviewDate = Field(
    default=None,
    description="When the hold is to be reviewed; past it, the holds register lists the "
    "hold as overdue.",
)


class ScreeningCreate(Command):
    step: str = one_of(ScreeningStep, max_length=40)
    outcome: str = one_of(ScreeningOutcome, max_length=40)
    reason: str = Field(default="", max_length=500)
    authority: str | None = Field(
        default=None,
        max_length=200,
        description="Required with outcome 'held' (who ordered the hold); refused otherwise.",
    )
    order_reference: str | None = Field(
        default=None,
        max_length=100,
        description="Required with outcome 'held' (the order's reference); refused otherwise.",
    )
    review_date: Date | None = Field(
        default=None, description="With outcome 'held': when the hold is to be reviewed."
    )

    @model_validator(mode="after")
    def _held_on_an_order(self) -> ScreeningCreate:
        if self.outcome == "held" and not (
            (self.authority or "").strip() and (self.order_reference or "").strip()
        ):
            raise ValueError("a 'held' outcome needs the authority and the order reference")
        return self

    def command_fields(self) -> dict[str, Any]:
        """The Registry's arguments (an absent order is an empty one)."""
        fields = self.model_dump()
        fields["authority"] = self.authority or ""
        fields["order_reference"] = self.order_reference or ""
        return fields


class ReasonCommand(Command):
    reason: str = required_text(500)


class HoldCreate(Command):
    reason: str = required_text(500)
    authority: str = Authority
    order_reference: str = OrderReference
    review_date: Date | None = ReviewDate


class ReleaseCreate(Command):
    reason: str = required_text(500)
    authority: str = Field(
        default="",
        max_length=200,
        description="Recommended: the authority that ended the hold.",
    )
    order_reference: str = Field(
        default="", max_length=100, description="Recommended: the release order's reference."
    )


class DepartureCreate(Command):
    reason: str = one_of(DepartureReason, max_length=40)


class CorrectionCreate(Command):
    field: str = one_of(CORRECTABLE, max_length=40)
    value: Any = Field(description="The corrected value (text, number, date, list or null).")
    reason: str = required_text(500)
    family_tracing: bool = Field(
        default=False,
        description="Set a household id as family tracing: join a household whose members "
        "may be at sites outside the token's scope (needs households:trace); recorded on "
        "the correction.",
    )


class MergeCreate(Command):
    survivor_id: UUID
    reason: str = required_text(500)


class PersonCommandPublic(CommandPublic):
    person_id: UUID
    version: int | None = None


class MergePublic(CommandPublic):
    duplicate_id: UUID
    survivor_id: UUID


# --- transfers ------------------------------------------------------------------------------


class TransferCreate(Command):
    origin: str = required_text(40)
    destination: str = required_text(40)
    manifest: list[UUID] = Field(min_length=1)
    vehicle: str = Field(default="", max_length=100)
    order_reference: str = Field(default="", max_length=100)


class ReceiptCreate(Command):
    site_code: str = required_text(40)
    persons: list[UUID] = Field(min_length=1, max_length=1_000)


class TransferCommandPublic(CommandPublic):
    transfer_id: UUID
    state: str | None = None
    missing: list[UUID] | None = None
    unaccounted_for: list[UUID] | None = None


# --- reads ------------------------------------------------------------------------------------


class Page(BaseModel, Generic[Item]):
    """One page of a list. Every list pages alike: pass ``next_cursor`` back as the
    ``cursor`` query parameter (with the same filters) for the next page; it is null on
    the last page. Pages are keyset-ordered, so writes between two requests neither
    repeat nor skip an item that was there all along."""

    items: list[Item]
    next_cursor: str | None = Field(
        default=None,
        pattern=CURSOR_PATTERN,
        description="Opaque: the `cursor` of the next page; null on the last page.",
    )


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded", "busy", "unavailable"] = Field(
        description="ok; degraded (projector not running, or events set aside); busy (every "
        "pooled connection in use, the database answering); unavailable (no database)."
    )
    database: bool = Field(description="Whether the database answers.")
    pool: dict[str, int] = Field(description="Pooled connections: size, available, waiting.")
    head: int | None = None
    lag: dict[str, int] | None = Field(default=None, description="Positions behind, per model.")
    quarantined: dict[str, list[int]] | None = Field(
        default=None, description="Positions each read model set aside (`campledger quarantine`)."
    )
    projector_running: bool | None = None
    waiting_reads: int | None = Field(
        default=None, description="Reads of this API process waiting for a wait_for position."
    )
    checked_at: datetime


class LivePublic(BaseModel):
    status: Literal["alive"]
