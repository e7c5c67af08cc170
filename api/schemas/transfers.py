"""Moving people between sites: a transfer planned, and its receipt."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from campledger.api.schemas.base import Command, CommandPublic
from campledger.api.schemas.examples import FIELD_TIME, OTHER_PERSON, PERSON, example
from campledger.api.schemas.fields import required_text
from campledger.domain.model.site import SITE_CODE_MAX
from campledger.domain.model.transfer import MAX_MANIFEST, VEHICLE_MAX
from campledger.domain.model.values import ORDER_REFERENCE_MAX


class TransferCreate(Command):
    model_config = example(
        {"origin": "RC-ADRE", "destination": "CMP-FARCHANA", "manifest": [PERSON, OTHER_PERSON],
         "vehicle": "UNHCR truck 14", "order_reference": "MOV-2025-0612"}
    )  # fmt: skip

    origin: str = required_text(SITE_CODE_MAX)
    destination: str = required_text(SITE_CODE_MAX)
    manifest: list[UUID] = Field(min_length=1)
    vehicle: str = Field(default="", max_length=VEHICLE_MAX)
    order_reference: str = Field(default="", max_length=ORDER_REFERENCE_MAX)


class ReceiptCreate(Command):
    model_config = example(
        {"site_code": "CMP-FARCHANA", "persons": [PERSON, OTHER_PERSON], "occurred_at": FIELD_TIME}
    )  # fmt: skip

    site_code: str = required_text(SITE_CODE_MAX)
    persons: list[UUID] = Field(min_length=1, max_length=MAX_MANIFEST)


class TransferCommandPublic(CommandPublic):
    transfer_id: UUID
    state: str | None = None
    missing: list[UUID] | None = None
    unaccounted_for: list[UUID] | None = None
