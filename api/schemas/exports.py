"""The HDX dataset metadata beside each HXL export (api/services/hdx.py writes it)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HdxResource(BaseModel):
    name: str = Field(description="The export's file name.")
    format: str
    hxl_tagged: bool


class HdxDataset(BaseModel):
    """The fields of an HDX dataset a publisher would otherwise fill in by hand."""

    title: str
    notes: str = Field(description="What the dataset holds.")
    dataset_source: str
    methodology: str = Field(description="One of HDX's methodologies: here always Registry.")
    methodology_other: str | None
    caveats: str
    license_id: str = Field(description="An HDX licence id; check it before publishing.")
    dataset_date: str = Field(
        description="HDX's date range: [YYYY-MM-DDT00:00:00 TO YYYY-MM-DDT23:59:59].",
        examples=["[2026-11-28T00:00:00 TO 2026-11-28T23:59:59]"],
    )
    subnational: str = Field(description='"1": the rows are sites, below country level.')
    tags: list[str]
    hxl_tagged: bool
    suppress_below: int | None = Field(description="The threshold the export was asked for.")
    time_zone: str = Field(description="The operation time zone whose days the data counts.")
    resources: list[HdxResource]
