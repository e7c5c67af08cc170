"""HXL (Humanitarian Exchange Language) tables of occupancy and flows.

A HXL table is a CSV with a row of hashtags under the header row, so that tools such as
HDX, the HXL Proxy or libhxl know what each column holds without a data dictionary.
Only aggregate figures leave through here: counts per site (and per day), never a row
or a column about a person.

Hashtags follow the HXL 1.1 dictionary: ``#date``, ``#loc`` with ``+name``/``+code``/
``+type``, ``#adm1+code``/``#adm2+code`` for admin-area p-codes, ``#geo+lat``/``+lon``,
``#capacity``, and ``#population`` with the sex-and-age attributes ``+f``/``+m``, the
loose age groups ``+infants``/``+children``/``+adolescents``/``+adults``/``+elderly``
and the exact bands as ``+age0_4`` … ``+age60plus``. Movement counters use attributes
of our own on ``#population`` (HXL allows new attributes); docs/exports.md lists them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from campledger.api.services import safe_csv
from campledger.domain.model.values import AGE_BANDS

MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    hashtag: str
    value: Callable[[dict[str, Any]], Any]


# The loose HXL age group each of campledger's bands belongs to.
_AGE_GROUP = {
    "0-4": "infants",
    "5-11": "children",
    "12-17": "adolescents",
    "18-59": "adults",
    "60+": "elderly",
}
_SEXES = (("female", "f", "Female"), ("male", "m", "Male"))


def _band_attribute(band: str) -> str:
    """``0-4`` → ``age0_4``, ``60+`` → ``age60plus``."""
    if band.endswith("+"):
        return f"age{band[:-1]}plus"
    return "age" + band.replace("-", "_")


def _cell(sex: str, band: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row["by_sex_age"].get(sex, {}).get(band, 0)


def _sex_total(sex: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row["by_sex"].get(sex, 0)


def _unknown_age(row: dict[str, Any]) -> int:
    known = sum(row["by_age_band"].values())
    return int(row["total"]) - int(known)


_SITE_COLUMNS = (
    Column("Site code", "#loc+code", lambda r: r["site_code"]),
    Column("Site name", "#loc+name", lambda r: r["name"]),
    Column("Admin 1 P-code", "#adm1+code", lambda r: r.get("admin1_pcode")),
    Column("Admin 2 P-code", "#adm2+code", lambda r: r.get("admin2_pcode")),
)

OCCUPANCY_COLUMNS: tuple[Column, ...] = (
    Column("Date", "#date", lambda r: r["date"]),
    *_SITE_COLUMNS,
    Column("Site type", "#loc+type", lambda r: r["kind"]),
    Column("Latitude", "#geo+lat", lambda r: r.get("latitude")),
    Column("Longitude", "#geo+lon", lambda r: r.get("longitude")),
    Column("Capacity", "#capacity", lambda r: r["capacity"]),
    Column("Total population", "#population+total", lambda r: r["total"]),
    *(
        Column(f"{label}, total", f"#population+{attr}+total", _sex_total(sex))
        for sex, attr, label in _SEXES
    ),
    Column("Sex unknown, total", "#population+unknown_sex+total", _sex_total("unknown")),
    *(
        Column(
            f"{label}, {band}",
            f"#population+{attr}+{_AGE_GROUP[band]}+{_band_attribute(band)}",
            _cell(sex, band),
        )
        for sex, attr, label in _SEXES
        for band, _, _ in AGE_BANDS
    ),
    *(
        Column(
            f"Sex unknown, {band}",
            f"#population+unknown_sex+{_AGE_GROUP[band]}+{_band_attribute(band)}",
            _cell("unknown", band),
        )
        for band, _, _ in AGE_BANDS
    ),
    Column("Age unknown, total", "#population+unknown_age+total", _unknown_age),
)

FLOW_COLUMNS: tuple[Column, ...] = (
    Column("Date", "#date", lambda r: r["day"]),
    *_SITE_COLUMNS,
    Column("Arrivals", "#population+arrivals", lambda r: r["arrivals"]),
    Column("Transfers in", "#population+transfers+incoming", lambda r: r["transfers_in"]),
    Column("Transfers out", "#population+transfers+outgoing", lambda r: r["transfers_out"]),
    Column("Departures", "#population+departures", lambda r: r["departures"]),
)


def occupancy_rows(
    occupancies: Iterable[dict[str, Any]], sites: Iterable[dict[str, Any]], day: date
) -> list[dict[str, Any]]:
    """Occupancy figures joined with each site's p-codes and position, dated ``day``."""
    site_fields = ("admin1_pcode", "admin2_pcode", "latitude", "longitude")
    return _joined(occupancies, sites, site_fields, date=day)


def flow_rows(
    flows: Iterable[dict[str, Any]], sites: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Daily flows joined with each site's name and p-codes."""
    return _joined(flows, sites, ("name", "admin1_pcode", "admin2_pcode"))


def _joined(
    rows: Iterable[dict[str, Any]],
    sites: Iterable[dict[str, Any]],
    site_fields: tuple[str, ...],
    **extra: Any,
) -> list[dict[str, Any]]:
    """Each row, then ``extra``, then these fields of its site (None if it has none)."""
    by_code = {s["code"]: s for s in sites}
    joined = []
    for row in rows:
        site = by_code.get(row["site_code"], {})
        joined.append({**row, **extra, **{name: site.get(name) for name in site_fields}})
    return joined


def to_csv(columns: tuple[Column, ...], rows: Iterable[dict[str, Any]], *, hxl: bool = True) -> str:
    """Header row, hashtag row (unless ``hxl`` is false), then one line per row.

    Site names and codes are typed in the field: safe_csv neutralises them, while counts
    and coordinates stay numbers (a longitude west of Greenwich is negative)."""
    buffer = io.StringIO()
    writer = safe_csv.writer(buffer, lineterminator="\n")
    writer.writerow(c.header for c in columns)
    if hxl:
        writer.writerow(c.hashtag for c in columns)
    for row in rows:
        writer.writerow(c.value(row) for c in columns)
    return buffer.getvalue()
