"""Every read model the projector keeps, in the order batches are applied to them."""

from __future__ import annotations

from projections.audit_log import AuditLog
from projections.duplicates import Duplicates
from projections.flows import Flows
from projections.holds import Holds
from projections.households import Households
from projections.ledger import Ledger
from projections.occupancy import Occupancy
from projections.readmodel import ReadModel
from projections.roster import Roster
from projections.stays import Stays
from projections.transfers import Transfers

READ_MODELS: list[type[ReadModel]] = [
    Roster,
    Stays,
    Occupancy,
    Flows,
    Transfers,
    Holds,
    Households,
    Duplicates,
    AuditLog,
    Ledger,
]
