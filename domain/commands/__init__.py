"""Every command, as a typed value, with its one handler (registered on import)."""

from campledger.domain.commands.arrivals import MAX_BATCH, RegisterArrival, RegisterArrivals
from campledger.domain.commands.base import Command, Decision, Records, every_command, handler_for
from campledger.domain.commands.duplicates import DismissDuplicate
from campledger.domain.commands.persons import (
    CorrectDetail,
    ErasePersonalData,
    HoldPerson,
    MergePersons,
    PersonCommand,
    RecordDeparture,
    RecordScreeningStep,
    ReleasePerson,
)
from campledger.domain.commands.sites import ChangeSiteCapacity, CloseSite, OpenSite
from campledger.domain.commands.transfers import (
    CancelTransfer,
    DispatchTransfer,
    PlanTransfer,
    ReceiveTransfer,
    ReconcileTransfer,
    TransferCommand,
)

__all__ = [
    "MAX_BATCH",
    "CancelTransfer",
    "ChangeSiteCapacity",
    "CloseSite",
    "Command",
    "CorrectDetail",
    "Decision",
    "DismissDuplicate",
    "DispatchTransfer",
    "ErasePersonalData",
    "HoldPerson",
    "MergePersons",
    "OpenSite",
    "PersonCommand",
    "PlanTransfer",
    "ReceiveTransfer",
    "ReconcileTransfer",
    "RecordDeparture",
    "RecordScreeningStep",
    "Records",
    "RegisterArrival",
    "RegisterArrivals",
    "ReleasePerson",
    "TransferCommand",
    "every_command",
    "handler_for",
]
