"""The commands a field device sends to offline sync: one model per command type.

Each item wraps the request body of the command's single endpoint (``api.schemas``) with
what offline work adds: the idempotency key, the field time and the device. Each knows the
permission its endpoint requires, how that endpoint checks the site scope, and which
Registry command it calls, so that sync does exactly what the endpoint would do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    SkipValidation,
    TypeAdapter,
    model_validator,
)

from api.auth import Permission, Principal
from api.deps import check_scope, require
from api.family_tracing import HouseholdSites, authorise_correction, check_household_join
from api.routes.commands import check_person_scope
from api.schemas import (
    Command,
    CorrectionCreate,
    DepartureCreate,
    HoldCreate,
    ReceiptCreate,
    ReleaseCreate,
    ScreeningCreate,
    SingleArrivalCreate,
    Strict,
    TransferCreate,
)
from domain.registry import CommandResult, Registry

# What a device id may look like: it ends up in the actor of every event, so no spaces,
# no '@' (the separator) and nothing that could be a person's name in free form.
DEVICE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class SyncItem(Strict):
    """One command recorded offline: the body is the single endpoint's request body."""

    idempotency_key: str = Field(min_length=1, max_length=200)
    occurred_at: AwareDatetime = Field(description="When it happened in the field.")
    device_id: str = Field(pattern=DEVICE_ID, examples=["tablet-07"])
    body: BaseModel

    permission: ClassVar[Permission]

    @model_validator(mode="after")
    def _one_field_time(self) -> Self:
        sent = getattr(self.body, "occurred_at", None)
        if sent is not None and sent != self.occurred_at:
            raise ValueError("body.occurred_at differs from the item's occurred_at")
        return self

    def authorise(
        self, principal: Principal, registry: Registry, households: HouseholdSites
    ) -> None:
        """The single endpoint's checks: the role's permission, then the site scope."""
        require(self.permission)(principal)
        self.check_scope(principal, registry)

    def check_scope(self, principal: Principal, registry: Registry) -> None:
        raise NotImplementedError

    def apply(self, registry: Registry, actor: str) -> CommandResult:
        raise NotImplementedError


class RegisterArrival(SyncItem):
    type: Literal["register_arrival"]
    body: SingleArrivalCreate
    permission = Permission.ARRIVALS_WRITE

    def check_scope(self, principal: Principal, registry: Registry) -> None:
        check_scope(principal, self.body.site_code)

    def apply(self, registry: Registry, actor: str) -> CommandResult:
        arrival = self.body.model_copy(update={"occurred_at": self.occurred_at}).to_arrival()
        return registry.register_arrival(
            site_code=self.body.site_code,
            arrival=arrival,
            actor=actor,
            idempotency_key=self.idempotency_key,
        )


class _PersonItem(SyncItem):
    person_id: UUID
    command: ClassVar[str]

    def check_scope(self, principal: Principal, registry: Registry) -> None:
        check_person_scope(principal, registry, self.person_id)

    def arguments(self) -> dict[str, Any]:
        return self.body.model_dump(exclude={"occurred_at"})

    def apply(self, registry: Registry, actor: str) -> CommandResult:
        fields = self.arguments()
        command: Callable[..., CommandResult] = getattr(registry, self.command)
        return command(
            person_id=self.person_id,
            occurred_at=self.occurred_at,
            actor=actor,
            idempotency_key=self.idempotency_key,
            **fields,
        )


class RecordScreeningStep(_PersonItem):
    type: Literal["record_screening_step"]
    body: ScreeningCreate
    permission = Permission.SCREENING_WRITE
    command = "record_screening_step"

    def arguments(self) -> dict[str, Any]:
        fields = self.body.command_fields()
        del fields["occurred_at"]
        return fields


class HoldPerson(_PersonItem):
    type: Literal["hold_person"]
    body: HoldCreate
    permission = Permission.SCREENING_WRITE
    command = "hold_person"


class ReleasePerson(_PersonItem):
    type: Literal["release_person"]
    body: ReleaseCreate
    permission = Permission.SCREENING_WRITE
    command = "release_person"


class RecordDeparture(_PersonItem):
    type: Literal["record_departure"]
    body: DepartureCreate
    permission = Permission.DEPARTURES_WRITE
    command = "record_departure"


class CorrectDetail(_PersonItem):
    type: Literal["correct_detail"]
    body: CorrectionCreate
    permission = Permission.CORRECTIONS_WRITE
    command = "correct_detail"

    def authorise(
        self, principal: Principal, registry: Registry, households: HouseholdSites
    ) -> None:
        """As the endpoint: family tracing's permission, scope, and household rule."""
        body = self.body
        authorise_correction(principal, body.family_tracing)
        self.check_scope(principal, registry)
        check_household_join(
            principal, self.person_id, body.field, body.value, body.family_tracing, households
        )


class PlanTransfer(SyncItem):
    type: Literal["plan_transfer"]
    body: TransferCreate
    transfer_id: UUID | None = Field(
        default=None, description="Minted by the device, so later items can dispatch it."
    )
    permission = Permission.TRANSFERS_WRITE

    def check_scope(self, principal: Principal, registry: Registry) -> None:
        check_scope(principal, self.body.origin)

    def apply(self, registry: Registry, actor: str) -> CommandResult:
        return registry.plan_transfer(
            **self.body.model_dump(exclude={"occurred_at"}),
            occurred_at=self.occurred_at,
            transfer_id=self.transfer_id,
            actor=actor,
            idempotency_key=self.idempotency_key,
        )


class DispatchTransfer(SyncItem):
    type: Literal["dispatch_transfer"]
    transfer_id: UUID
    body: Command = Field(default_factory=Command)
    permission = Permission.TRANSFERS_WRITE

    def check_scope(self, principal: Principal, registry: Registry) -> None:
        if principal.scoped:
            check_scope(principal, registry.get_transfer(self.transfer_id).origin)

    def apply(self, registry: Registry, actor: str) -> CommandResult:
        return registry.dispatch_transfer(
            transfer_id=self.transfer_id,
            occurred_at=self.occurred_at,
            actor=actor,
            idempotency_key=self.idempotency_key,
        )


class ReceiveTransfer(SyncItem):
    type: Literal["receive_transfer"]
    transfer_id: UUID
    body: ReceiptCreate
    permission = Permission.TRANSFERS_WRITE

    def check_scope(self, principal: Principal, registry: Registry) -> None:
        check_scope(principal, self.body.site_code)

    def apply(self, registry: Registry, actor: str) -> CommandResult:
        return registry.receive_transfer(
            transfer_id=self.transfer_id,
            site_code=self.body.site_code,
            persons=self.body.persons,
            occurred_at=self.occurred_at,
            actor=actor,
            idempotency_key=self.idempotency_key,
        )


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
