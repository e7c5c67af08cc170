"""Request and response bodies: ``XCreate`` comes in, ``XPublic`` goes out.

Request models forbid unknown fields: a typo in a field name is an error, not a silently
dropped value. One module per resource (``sites``, ``arrivals``, ``persons``,
``transfers``), the reads' pages and health (``reads``), on what they all share (``base``:
the strict body, the command's field time and log position; ``fields``: the kinds of field
they are made of), each body's example (``examples``). The reads' answers, field for field
as the read models give them, are in ``places``, ``people``, ``movements``, ``families``
and ``audit``, imported from there. Callers import the bodies from here.
"""

from campledger.api.schemas.arrivals import (
    ArrivalBatchCreate,
    ArrivalBatchPublic,
    ArrivalCreate,
    ArrivalPublic,
    SingleArrivalCreate,
)
from campledger.api.schemas.base import UNSTORABLE_ERROR, Command, CommandPublic, Strict
from campledger.api.schemas.fields import (
    NATIONALITY_PATTERN,
    NEED_PATTERN,
    REQUIRED_TEXT,
    Age,
    Date,
    DateTime,
    NeedCode,
    Number,
    WholeNumber,
    any_case,
    one_of,
    required_text,
)
from campledger.api.schemas.persons import (
    CorrectionCreate,
    DepartureCreate,
    ErasureCreate,
    HoldCreate,
    MergeCreate,
    MergePublic,
    PersonCommandPublic,
    ReasonCommand,
    ReleaseCreate,
    ScreeningCreate,
)
from campledger.api.schemas.reads import HealthPublic, LivePublic, Page
from campledger.api.schemas.sites import (
    CapacityChange,
    SiteClose,
    SiteCommandPublic,
    SiteCreate,
)
from campledger.api.schemas.transfers import (
    ReceiptCreate,
    TransferCommandPublic,
    TransferCreate,
)

__all__ = [
    "NATIONALITY_PATTERN",
    "NEED_PATTERN",
    "REQUIRED_TEXT",
    "UNSTORABLE_ERROR",
    "Age",
    "ArrivalBatchCreate",
    "ArrivalBatchPublic",
    "ArrivalCreate",
    "ArrivalPublic",
    "CapacityChange",
    "Command",
    "CommandPublic",
    "CorrectionCreate",
    "Date",
    "DateTime",
    "DepartureCreate",
    "ErasureCreate",
    "HealthPublic",
    "HoldCreate",
    "LivePublic",
    "MergeCreate",
    "MergePublic",
    "NeedCode",
    "Number",
    "Page",
    "PersonCommandPublic",
    "ReasonCommand",
    "ReceiptCreate",
    "ReleaseCreate",
    "ScreeningCreate",
    "SingleArrivalCreate",
    "SiteClose",
    "SiteCommandPublic",
    "SiteCreate",
    "Strict",
    "TransferCommandPublic",
    "TransferCreate",
    "WholeNumber",
    "any_case",
    "one_of",
    "required_text",
]
