"""What an import of arrivals answers: the report of what it found and did
(``api.services.import_report.ImportReport.as_dict``, field for field)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RowProblemPublic(BaseModel):
    line: int = Field(description="The file's line (the header is line 1).")
    column: str
    code: str = Field(examples=["invalid-date"])
    reason: str


class ImportBatchPublic(BaseModel):
    index: int
    first_line: int
    last_line: int
    size: int
    status: str = Field(description="planned (dry run), imported, replayed or refused.")
    position: int | None
    problems: list[RowProblemPublic]


class ImportReportPublic(BaseModel):
    site_code: str
    sha256: str = Field(description="The file's digest: the same file imports nothing twice.")
    rows: int
    dry_run: bool
    skip_bad_rows: bool
    ok: bool = Field(description="Whether it did all it was asked.")
    imported: int
    replayed: int
    already_imported: int = Field(description="Good rows an earlier run of this file imported.")
    to_import: int
    refused: int
    bad_rows: int
    position: int | None = Field(description="Log position of the last batch imported.")
    seconds: float
    problems: list[RowProblemPublic]
    batches: list[ImportBatchPublic]
