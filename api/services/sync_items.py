"""The commands a field device sends to offline sync: one model per command type.

Each item wraps the request body of the command's single endpoint (``api.schemas``) with
what offline work adds: the idempotency key, the field time and the device, and turns into
the typed command that endpoint sends. Sync then authorises and runs it through the same
catalogue (``api.catalogue``), so that it does exactly what the endpoint would do.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
    SkipValidation,
    TypeAdapter,
    model_validator,
)

from campledger.api.schemas import Command as CommandBody
from campledger.api.schemas import (
    CorrectionCreate,
    DateTime,
    DepartureCreate,
    HoldCreate,
    ReceiptCreate,
    ReleaseCreate,
    ScreeningCreate,
    SingleArrivalCreate,
    Strict,
    TransferCreate,
)
from campledger.api.schemas.examples import ARRIVAL, FIELD_TIME, PERSON, example
from campledger.domain import commands
from campledger.domain.commands import Command
from campledger.domain.service.journal import IDEMPOTENCY_KEY_MAX

# What a device id may look like: it ends up in the actor of every event, so no spaces,
# no '@' (the separator) and nothing that could be a person's name in free form.
DEVICE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class SyncItem(Strict):
    """One command recorded offline: the body is the single endpoint's request body."""

    idempotency_key: str = Field(min_length=1, max_length=IDEMPOTENCY_KEY_MAX)
    occurred_at: DateTime = Field(description="When it happened in the field.")
    device_id: str = Field(pattern=DEVICE_ID, examples=["tablet-07"])
    body: BaseModel

    @model_validator(mode="after")
    def _one_field_time(self) -> Self:
        sent = getattr(self.body, "occurred_at", None)
        if sent is not None and sent != self.occurred_at:
            raise ValueError("body.occurred_at differs from the item's occurred_at")
        return self

    def command(self) -> Command:
        """The command the single endpoint would send, at the item's field time; it is
        authorised and run as that endpoint's (``api.catalogue``)."""
        raise NotImplementedError

    def _fields(self) -> dict[str, Any]:
        return {**self.body.model_dump(), "occurred_at": self.occurred_at}


class RegisterArrival(SyncItem):
    type: Literal["register_arrival"]
    body: SingleArrivalCreate

    def command(self) -> Command:
        arrival = self.body.model_copy(update={"occurred_at": self.occurred_at}).to_arrival()
        return commands.RegisterArrival(site_code=self.body.site_code, arrival=arrival)


class _PersonItem(SyncItem):
    person_id: UUID
    command_type: ClassVar[type[commands.PersonCommand]]

    def command(self) -> Command:
        return self.command_type(person_id=self.person_id, **self._fields())


class RecordScreeningStep(_PersonItem):
    type: Literal["record_screening_step"]
    body: ScreeningCreate
    command_type = commands.RecordScreeningStep

    def _fields(self) -> dict[str, Any]:
        assert isinstance(self.body, ScreeningCreate)
        return {**self.body.command_fields(), "occurred_at": self.occurred_at}


class HoldPerson(_PersonItem):
    type: Literal["hold_person"]
    body: HoldCreate
    command_type = commands.HoldPerson


class ReleasePerson(_PersonItem):
    type: Literal["release_person"]
    body: ReleaseCreate
    command_type = commands.ReleasePerson


class RecordDeparture(_PersonItem):
    type: Literal["record_departure"]
    body: DepartureCreate
    command_type = commands.RecordDeparture


class CorrectDetail(_PersonItem):
    type: Literal["correct_detail"]
    body: CorrectionCreate
    command_type = commands.CorrectDetail


class PlanTransfer(SyncItem):
    type: Literal["plan_transfer"]
    body: TransferCreate
    transfer_id: UUID | None = Field(
        default=None, description="Minted by the device, so later items can dispatch it."
    )

    def command(self) -> Command:
        return commands.PlanTransfer(transfer_id=self.transfer_id, **self._fields())


class DispatchTransfer(SyncItem):
    type: Literal["dispatch_transfer"]
    transfer_id: UUID
    body: CommandBody = Field(default_factory=CommandBody)

    def command(self) -> Command:
        return commands.DispatchTransfer(transfer_id=self.transfer_id, **self._fields())


class ReceiveTransfer(SyncItem):
    type: Literal["receive_transfer"]
    transfer_id: UUID
    body: ReceiptCreate

    def command(self) -> Command:
        return commands.ReceiveTransfer(transfer_id=self.transfer_id, **self._fields())


AnyItem = Annotated[
    RegisterArrival
    | RecordScreeningStep
    | HoldPerson
    | ReleasePerson
    | RecordDeparture
    | CorrectDetail
    | PlanTransfer
    | DispatchTransfer
    | ReceiveTransfer,
    Field(discriminator="type"),
]
ITEM: TypeAdapter[AnyItem] = TypeAdapter(AnyItem)
COMMAND_TYPES = tuple(sorted(ITEM.json_schema()["discriminator"]["mapping"]))


class SyncRequest(Strict):
    """A device's queue: ``items`` in the order they happened."""

    model_config = example(
        {"atomic": False, "items": [
            {"type": "register_arrival", "idempotency_key": "tablet-07:000311",
             "occurred_at": FIELD_TIME, "device_id": "tablet-07",
             "body": {**{k: v for k, v in ARRIVAL.items() if k != "occurred_at"},
                      "site_code": "RC-ADRE", "person_id": PERSON}},
            {"type": "record_screening_step", "idempotency_key": "tablet-07:000312",
             "occurred_at": "2025-06-01T08:10:00+01:00", "device_id": "tablet-07",
             "person_id": PERSON, "body": {"step": "medical", "outcome": "cleared"}},
        ]}
    )  # fmt: skip

    atomic: bool = Field(
        default=False,
        description="All or nothing: if any item is rejected, none is applied.",
    )
    # The schema of each item is published, but items are validated one by one in
    # api.sync (one malformed command is rejected alone instead of failing the whole
    # queue with a 422): until then each element is the JSON object that was sent.
    items: list[SkipValidation[AnyItem]] = Field(
        description="Commands in the order they happened: " + ", ".join(COMMAND_TYPES) + "."
    )
