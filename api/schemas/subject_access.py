"""What a subject access export answers (``GET /persons/{id}/subject-export``): everything
held about one person, as ``api/services/subject_access.py`` assembles it."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from campledger.api.schemas.answers import Instant
from campledger.api.schemas.audit import AccessEntryPublic, AuditEntryPublic
from campledger.api.schemas.people import HistoryEvent, PersonPublic


class SubjectHistory(BaseModel):
    events: list[HistoryEvent] = Field(
        description="Every event of the person, in order, with the state after it; personal "
        "values included (marked erased once the person's personal data is erased)."
    )
    duplicates: dict[str, list[HistoryEvent]] = Field(
        description="The histories of records merged into this one, by id."
    )


class HouseholdMember(BaseModel):
    person_id: UUID
    registration_number: str | None
    relationship: str | None


class SubjectHousehold(BaseModel):
    household_id: str
    relationship: str | None = Field(description="The person's relationship in it.")
    members: list[HouseholdMember] = Field(
        description="Who is recorded in the household (the person included): ids, "
        "registration numbers and relationships, not where the others are."
    )


class DuplicateCandidate(BaseModel):
    other_id: UUID
    other_registration_number: str | None
    score: float
    reasons: str = Field(examples=["name 0.93, same sex, birth year ±1"])


class SubjectExportPublic(BaseModel):
    """Everything campledger holds about one person, for their right of access."""

    format_version: int = Field(
        description="The document's shape; raised when a key is renamed or removed."
    )
    exported_at: Instant
    exported_by: str = Field(description="The token (or account) that asked for the export.")
    purpose: str = Field(
        description="As recorded on the access trail.",
        examples=["GET /persons/{id}/subject-export"],
    )
    export_entry: int = Field(
        description="The id of the access trail entry recording this export (listed in "
        "`access_trail`)."
    )
    person_id: UUID
    registration_number: str | None
    erased: bool = Field(
        description="The person's personal data was erased: personal fields are null in "
        "`current_state` and marked erased in `history`."
    )
    current_state: PersonPublic | None = Field(
        description="The person's roster row with personal data; null if the read models "
        "have not reached the person yet (pass `wait_for`)."
    )
    history: SubjectHistory
    household: SubjectHousehold | None = Field(description="Null: in no household.")
    duplicate_candidates: list[DuplicateCandidate] = Field(
        description="Records proposed now as maybe the same person, for review."
    )
    audit_log: list[AuditEntryPublic] = Field(
        description="The audit log's entries about the person and the records merged into "
        "theirs, in log order."
    )
    access_trail: list[AccessEntryPublic] = Field(
        description="Every recorded read of the person's personal data (and of the records "
        "merged into theirs), this export's included."
    )
