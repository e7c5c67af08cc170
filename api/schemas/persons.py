"""What happens to a registered person: screening, holds and releases, departure,
corrections, and the merge of two registrations."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from campledger.api.schemas.base import Command, CommandPublic
from campledger.api.schemas.examples import FIELD_TIME, OTHER_PERSON, example
from campledger.api.schemas.fields import CHOICE_MAX, Date, one_of, required_text
from campledger.domain.model.corrections import CORRECTABLE
from campledger.domain.model.values import (
    ORDER_REFERENCE_MAX,
    REASON_MAX,
    TEXT_MAX,
    DepartureReason,
    ErasureBasis,
    ScreeningOutcome,
    ScreeningStep,
)

# A hold is decided by an authority under an order: every way in for people asks for both
# (HTTP and offline sync share these bodies). A release should name them too; it may not
# know them (a review board's minutes arrive later), so there they are recommended only.
Authority = Field(
    max_length=TEXT_MAX,
    min_length=1,
    examples=["Governor of Ouaddaï"],
    description="Who decided: the authority (an office, not a person's name).",
)
OrderReference = Field(
    max_length=ORDER_REFERENCE_MAX,
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
    model_config = example(
        {"step": "security", "outcome": "held", "reason": "name matches a wanted list entry",
         "authority": "Governor of Ouaddaï", "order_reference": "GOV-OUA-2025-118",
         "review_date": "2025-06-15", "occurred_at": FIELD_TIME}
    )  # fmt: skip

    step: str = one_of(ScreeningStep, max_length=CHOICE_MAX)
    outcome: str = one_of(ScreeningOutcome, max_length=CHOICE_MAX)
    reason: str = Field(default="", max_length=REASON_MAX)
    authority: str | None = Field(
        default=None,
        max_length=TEXT_MAX,
        description="Required with outcome 'held' (who ordered the hold); refused otherwise.",
    )
    order_reference: str | None = Field(
        default=None,
        max_length=ORDER_REFERENCE_MAX,
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
    model_config = example({"reason": "destination camp at capacity after flooding"})

    reason: str = required_text(REASON_MAX)


class HoldCreate(Command):
    model_config = example(
        {"reason": "identity documents under verification", "authority": "Governor of Ouaddaï",
         "order_reference": "GOV-OUA-2025-118", "review_date": "2025-06-15"}
    )  # fmt: skip

    reason: str = required_text(REASON_MAX)
    authority: str = Authority
    order_reference: str = OrderReference
    review_date: Date | None = ReviewDate


class ReleaseCreate(Command):
    model_config = example(
        {"reason": "documents verified", "authority": "Governor of Ouaddaï",
         "order_reference": "GOV-OUA-2025-131"}
    )  # fmt: skip

    reason: str = required_text(REASON_MAX)
    authority: str = Field(
        default="",
        max_length=TEXT_MAX,
        description="Recommended: the authority that ended the hold.",
    )
    order_reference: str = Field(
        default="",
        max_length=ORDER_REFERENCE_MAX,
        description="Recommended: the release order's reference.",
    )


class DepartureCreate(Command):
    model_config = example({"reason": "resettled", "occurred_at": FIELD_TIME})

    reason: str = one_of(DepartureReason, max_length=CHOICE_MAX)


class ErasureCreate(Command):
    """Erase a person's personal data for good (docs/data-protection.md). Neither field may
    hold personal data: the erasure is recorded in the clear."""

    model_config = example({"basis": "court_order", "order_reference": "TRIB-NDJ-2026-041"})

    basis: str = one_of(ErasureBasis, max_length=CHOICE_MAX)
    order_reference: str = Field(
        default="",
        max_length=ORDER_REFERENCE_MAX,
        description="The reference of the order or request; required when `basis` is "
        "`court_order` (422 otherwise).",
    )

    @model_validator(mode="after")
    def _court_order_named(self) -> ErasureCreate:
        if self.basis == ErasureBasis.COURT_ORDER and not self.order_reference.strip():
            raise ValueError("order_reference is required for an erasure by court order")
        return self


class CorrectionCreate(Command):
    model_config = example(
        {"field": "date_of_birth", "value": "1994-03-21",
         "reason": "day and month swapped at entry"}
    )  # fmt: skip

    field: str = one_of(CORRECTABLE, max_length=CHOICE_MAX)
    value: Any = Field(description="The corrected value (text, number, date, list or null).")
    reason: str = required_text(REASON_MAX)
    family_tracing: bool = Field(
        default=False,
        description="Set a household id as family tracing: join a household whose members "
        "may be at sites outside the token's scope (needs households:trace); recorded on "
        "the correction.",
    )


class MergeCreate(Command):
    model_config = example(
        {"survivor_id": OTHER_PERSON, "reason": "same fingerprints, registered twice"}
    )

    survivor_id: UUID
    reason: str = required_text(REASON_MAX)


class PersonCommandPublic(CommandPublic):
    person_id: UUID
    version: int | None = None


class MergePublic(CommandPublic):
    duplicate_id: UUID
    survivor_id: UUID
