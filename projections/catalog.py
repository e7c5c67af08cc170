"""Every read model the projector keeps, in the order batches are applied to them."""

from __future__ import annotations

from campledger.projections.audit_log import AuditLog
from campledger.projections.duplicates import Duplicates
from campledger.projections.flows import Flows
from campledger.projections.holds import Holds
from campledger.projections.households import Households
from campledger.projections.ledger import Ledger
from campledger.projections.occupancy import Occupancy
from campledger.projections.readmodel import ReadModel
from campledger.projections.roster import Roster
from campledger.projections.stays import Stays
from campledger.projections.transfers import Transfers

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
