"""The dataset metadata HDX asks for, beside each HXL export.

The fields are those of an HDX (CKAN) dataset that a publisher fills in by hand: title,
description, source, methodology, caveats, licence, date of dataset, tags. campledger
knows what its figures are and how they were made, so it writes them; the publisher
still picks the organisation and checks the licence before uploading (docs/exports.md).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from campledger.api.services.hxl import Caseload, Kind

# Open data licence HDX lists for humanitarian aggregates; the publisher may choose another.
LICENSE_ID = "cc-by-igo"

_PEOPLE = {"refugees": "refugees", "idps": "internally displaced people"}
_HDX_TAGS = {"refugees": "refugees", "idps": "internally displaced persons-idp"}

_WHAT = {
    Kind.OCCUPANCY: (
        "Occupancy of sites",
        "Head count of {people} present at each site on the date of the dataset, by sex and "
        "age band at registration, households, against each site's capacity.",
    ),
    Kind.FLOWS: (
        "Daily movements at sites",
        "Arrivals, transfers in and out and departures of {people} at each site, per day.",
    ),
    Kind.NATIONALITIES: (
        "Nationalities at sites",
        "Head count of {people} present at each site on the date of the dataset, by "
        "nationality (ISO 3166-1 alpha-3).",
    ),
}


def metadata(
    kind: Kind,
    *,
    caseload: Caseload,
    start: date,
    end: date,
    zone: str,
    suppress_below: int | None,
    filename: str,
) -> dict[str, Any]:
    """The HDX dataset fields of one export, as JSON."""
    title, notes = _WHAT[kind]
    people = _PEOPLE[caseload]
    caveats = [
        "Counts of registered people only: people not (yet) registered are not counted.",
        f"Days are days of the {zone} time zone.",
        "Age bands are the age at registration, not today's age.",
    ]
    if kind is Kind.NATIONALITIES:
        caveats.append(
            "XXA (stateless), XXB (refugee, 1951 Convention), XXC (other refugee) and XXX "
            "(unspecified) are ICAO codes, not ISO 3166."
        )
    if suppress_below is None:
        caveats.append("No small count was suppressed: check before publishing site-level rows.")
    else:
        caveats.append(
            f"Counts from 1 to {suppress_below - 1} are left blank, with whatever other "
            "counts or totals would give them back."
        )
    return {
        "title": f"{title} ({people})",
        "notes": notes.format(people=people),
        "dataset_source": "campledger registration records",
        "methodology": "Registry",
        "methodology_other": None,
        "caveats": " ".join(caveats),
        "license_id": LICENSE_ID,
        "dataset_date": f"[{start.isoformat()}T00:00:00 TO {end.isoformat()}T23:59:59]",
        "subnational": "1",
        "tags": [_HDX_TAGS[caseload], "hxl"],
        "hxl_tagged": True,
        "suppress_below": suppress_below,
        "time_zone": zone,
        "resources": [{"name": filename, "format": "CSV", "hxl_tagged": True}],
    }
