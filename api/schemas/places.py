"""What the site reads answer: a site, its occupancy, its daily flows (projections.occupancy
and projections.flows rows, field for field)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from campledger.api.schemas.answers import Instant


class SitePublic(BaseModel):
    code: str
    name: str
    kind: str = Field(examples=["reception"])
    capacity: int
    is_open: bool
    admin1_pcode: str | None
    admin2_pcode: str | None
    latitude: float | None
    longitude: float | None
    opened_at: Instant = Field(description="Field time of the opening.")
    closed_at: Instant | None


class OccupancyPublic(BaseModel):
    site_code: str
    name: str
    kind: str
    is_open: bool
    capacity: int
    total: int = Field(description="Present or held at the site now.")
    held: int = Field(description="Of the total, how many are held.")
    occupancy_rate: float | None = Field(
        description="total / capacity, to 4 decimals; null for a site with no capacity."
    )
    by_sex_age: dict[str, dict[str, int]] = Field(
        description="Head count by sex, then by age band (zeros filled)."
    )
    by_sex: dict[str, int]
    by_age_band: dict[str, int]
    by_need: dict[str, int] = Field(description="Head count by UNHCR specific-need code.")


class FlowPublic(BaseModel):
    site_code: str
    day: date = Field(description="The day in field time.")
    arrivals: int
    transfers_in: int
    transfers_out: int
    departures: int
