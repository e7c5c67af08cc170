"""HXL (Humanitarian Exchange Language) tables of occupancy, flows and nationalities.

A HXL table is a CSV with a row of hashtags under the header row, so that tools such as
HDX, the HXL Proxy or libhxl know what each column holds without a data dictionary.
Only aggregate figures leave through here: counts per site (and per day, or per
nationality), never a row or a column about a person.

``table`` is the one place that decides a table's headers, hashtags and cells, small
counts suppressed: the CSV (``to_csv``) and the spreadsheet (``export_sheets``) both write
what it returns. The hashtags and attributes follow the HXL 1.1 dictionary; the ones it
does not define are campledger's own (HXL allows them). docs/exports.md lists both, and
tests/field/hxl_dictionary.json holds the dictionary entries they were checked against.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

import pycountry

from campledger.api.services import safe_csv
from campledger.api.services.small_counts import check_threshold, suppress, two_smallest
from campledger.domain.model.values import AGE_BANDS

MEDIA_TYPE = "text/csv; charset=utf-8"

Caseload = Literal["refugees", "idps"]


class Kind(StrEnum):
    OCCUPANCY = "occupancy"
    FLOWS = "flows"
    NATIONALITIES = "nationalities"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    hashtag: str
    value: Callable[[dict[str, Any]], Any]
    # A count of people or households: blanked when it is small (``suppress``).
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """What every format of an export writes: row 1, row 2 (hashtags), then the cells.

    A suppressed cell is None, as an unknown one is: counts are never unknown otherwise."""

    kind: Kind
    headers: tuple[str, ...]
    hashtags: tuple[str, ...]
    rows: list[list[Any]]
    suppressed: int


# The loose HXL age group each of campledger's bands belongs to.
_AGE_GROUP = {
    "0-4": "infants",
    "5-11": "children",
    "12-17": "adolescents",
    "18-59": "adults",
    "60+": "elderly",
}
_SEXES = (
    ("female", "f", "Female"),
    ("male", "m", "Male"),
    ("unknown", "unknown_sex", "Sex unknown"),
)


def band_attribute(band: str) -> str:
    """``0-4`` → ``age0_4``, ``60+`` → ``age60plus``."""
    if band.endswith("+"):
        return f"age{band[:-1]}plus"
    return "age" + band.replace("-", "_")


@lru_cache(maxsize=256)
def country_of_pcode(pcode: str | None) -> str | None:
    """The ISO 3166 alpha-3 code of the country a p-code belongs to (its first two
    letters are the alpha-2 code, as in OCHA's common operational datasets), or None."""
    if not pcode or len(pcode) < 2:
        return None
    country = pycountry.countries.get(alpha_2=pcode[:2].upper())
    return country.alpha_3 if country is not None else None


def _country(row: dict[str, Any]) -> str | None:
    return country_of_pcode(row.get("admin1_pcode")) or country_of_pcode(row.get("admin2_pcode"))


def _get(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[key]


def _opt(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


def _site_columns(*, full: bool) -> tuple[Column, ...]:
    columns = (
        Column("Country", "#country+code", _country),
        Column("Site code", "#loc+code", _get("site_code")),
        Column("Site name", "#loc+name", _get("name")),
        Column("Admin 1 P-code", "#adm1+code", _opt("admin1_pcode")),
        Column("Admin 2 P-code", "#adm2+code", _opt("admin2_pcode")),
    )
    if not full:
        return columns
    return (
        *columns,
        Column("Site type", "#loc+type", _get("kind")),
        Column("Latitude", "#geo+lat", _opt("latitude")),
        Column("Longitude", "#geo+lon", _opt("longitude")),
        Column("Capacity", "#capacity", _get("capacity")),
    )


def _counts(row: dict[str, Any]) -> dict[str, int]:
    """An occupancy row's counts, by the keys its columns and sums name."""
    counts = {"total": int(row["total"]), "households": int(row.get("households") or 0)}
    known = 0
    for sex, _, _ in _SEXES:
        counts[sex] = int(row["by_sex"].get(sex, 0))
        for band, _, _ in AGE_BANDS:
            counts[f"{sex}:{band}"] = cell = int(row["by_sex_age"].get(sex, {}).get(band, 0))
            known += cell
    counts["unknown_age"] = counts["total"] - known
    return counts


def _count(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row["counts"][key]


def occupancy_columns(caseload: Caseload) -> tuple[Column, ...]:
    people = f"#affected+{caseload}+ind"
    return (
        Column("Date", "#date+reported", _get("date")),
        *_site_columns(full=True),
        Column("Households", f"#affected+{caseload}+hh", _count("households"), "households"),
        Column("People, total", f"{people}+total", _count("total"), "total"),
        *(
            Column(f"{label}, total", f"{people}+{attr}+total", _count(sex), sex)
            for sex, attr, label in _SEXES
        ),
        *(
            Column(
                f"{label}, {band}",
                f"{people}+{attr}+{_AGE_GROUP[band]}+{band_attribute(band)}",
                _count(f"{sex}:{band}"),
                f"{sex}:{band}",
            )
            for sex, attr, label in _SEXES
            for band, _, _ in AGE_BANDS
        ),
        Column(
            "Age unknown, total",
            f"{people}+unknown_age+total",
            _count("unknown_age"),
            "unknown_age",
        ),
    )


# Sums a reader could redo from an occupancy row: the total is the sexes' totals, and the
# bands' cells with those of unknown age; a sex's total is its bands (when no age is
# unknown, which is the rule).
_OCCUPANCY_SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("total", tuple(sex for sex, _, _ in _SEXES)),
    ("total", (*(f"{s}:{b}" for s, _, _ in _SEXES for b, _, _ in AGE_BANDS), "unknown_age")),
    *((sex, tuple(f"{sex}:{b}" for b, _, _ in AGE_BANDS)) for sex, _, _ in _SEXES),
)

# Movement has no attribute in the HXL dictionary (+incoming/+outgoing are funding flows;
# +origin/+dest qualify places): these four are campledger's, on #affected counts.
FLOW_ATTRIBUTES = {
    "arrivals": "arrived",
    "transfers_in": "transfer_in",
    "transfers_out": "transfer_out",
    "departures": "departed",
}
_FLOW_HEADERS = {
    "arrivals": "Arrivals",
    "transfers_in": "Transfers in",
    "transfers_out": "Transfers out",
    "departures": "Departures",
}


def flow_columns(caseload: Caseload) -> tuple[Column, ...]:
    return (
        Column("Date", "#date+occurred", _get("day")),
        *_site_columns(full=False),
        *(
            Column(_FLOW_HEADERS[c], f"#affected+{caseload}+ind+{a}", _get(c), c)
            for c, a in FLOW_ATTRIBUTES.items()
        ),
    )


def nationality_columns(caseload: Caseload) -> tuple[Column, ...]:
    return (
        Column("Date", "#date+reported", _get("date")),
        *_site_columns(full=False),
        Column("Nationality", "#country+code+origin", _get("nationality")),
        Column("People", f"#affected+{caseload}+ind", _get("count"), "count"),
    )


def columns(kind: Kind, caseload: Caseload) -> tuple[Column, ...]:
    return {
        Kind.OCCUPANCY: occupancy_columns,
        Kind.FLOWS: flow_columns,
        Kind.NATIONALITIES: nationality_columns,
    }[kind](caseload)


def occupancy_rows(
    occupancies: Iterable[dict[str, Any]],
    sites: Iterable[dict[str, Any]],
    day: date,
    households: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Occupancy figures joined with each site's p-codes and position, dated ``day``."""
    site_fields = ("admin1_pcode", "admin2_pcode", "latitude", "longitude")
    rows = _joined(occupancies, sites, site_fields, date=day)
    for row in rows:
        row["households"] = (households or {}).get(row["site_code"], 0)
        row["counts"] = _counts(row)
    return rows


def flow_rows(
    flows: Iterable[dict[str, Any]], sites: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Daily flows joined with each site's name and p-codes."""
    return _joined(flows, sites, ("name", "admin1_pcode", "admin2_pcode"))


def nationality_rows(
    counts: Iterable[dict[str, Any]], sites: Iterable[dict[str, Any]], day: date
) -> list[dict[str, Any]]:
    """People per site and nationality joined with each site's name and p-codes."""
    return _joined(counts, sites, ("name", "admin1_pcode", "admin2_pcode"), date=day)


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


def table(
    kind: Kind,
    rows: Sequence[dict[str, Any]],
    *,
    caseload: Caseload,
    suppress_below: int | None = None,
    hidden_totals: Iterable[str] = (),
) -> Table:
    """The export ``kind`` of ``rows``: headers, hashtags and cells, counts 0 < n <
    ``suppress_below`` blanked with what would give them back (docs/exports.md).

    ``hidden_totals`` (nationalities only) are the sites whose total the occupancy export
    blanks: their nationality counts must not add up to it either."""
    cols = columns(kind, caseload)
    threshold = check_threshold(suppress_below)
    cells = [[c.value(row) for c in cols] for row in rows]
    suppressed = 0
    if threshold is not None:
        hide = _hidden_cells(kind, rows, cols, threshold, set(hidden_totals))
        for i, j in hide:
            cells[i][j] = None
        suppressed = len(hide)
    return Table(
        kind, tuple(c.header for c in cols), tuple(c.hashtag for c in cols), cells, suppressed
    )


def _hidden_cells(
    kind: Kind,
    rows: Sequence[dict[str, Any]],
    cols: tuple[Column, ...],
    threshold: int,
    hidden_totals: set[str],
) -> set[tuple[int, int]]:
    """(row, column) of every cell to blank."""
    at = {c.key: j for j, c in enumerate(cols) if c.key is not None}
    hide: set[tuple[int, int]] = set()
    if kind is Kind.NATIONALITIES:
        # One sum per site across rows: the site's total, published by the occupancy export.
        by_site: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            by_site.setdefault(row["site_code"], []).append(i)
        for site, indexes in by_site.items():
            counts = {str(i): int(rows[i]["count"]) for i in indexes}
            # A blanked total is still one more unknown: hide at least two counts then.
            hidden = suppress(counts, threshold, known_totals=[list(counts)])
            if site in hidden_totals and not hidden:
                hidden = two_smallest(counts)
            hide |= {(int(i), at["count"]) for i in hidden}
        return hide
    for i, row in enumerate(rows):
        counts = row["counts"] if kind is Kind.OCCUPANCY else {k: int(row[k]) for k in at}
        sums = _OCCUPANCY_SUMS if kind is Kind.OCCUPANCY else ()
        hide |= {(i, at[k]) for k in suppress(counts, threshold, sums) if k in at}
    return hide


def hidden_site_totals(occupancy: Sequence[dict[str, Any]], suppress_below: int | None) -> set[str]:
    """The sites whose total the occupancy export blanks at this threshold."""
    threshold = check_threshold(suppress_below)
    if threshold is None:
        return set()
    return {
        row["site_code"]
        for row in occupancy
        if "total" in suppress(row["counts"], threshold, _OCCUPANCY_SUMS)
    }


def to_csv(content: Table, *, hxl: bool = True) -> str:
    """Header row, hashtag row (unless ``hxl`` is false), then one line per row.

    Site names and codes are typed in the field: safe_csv neutralises them, while counts
    and coordinates stay numbers (a longitude west of Greenwich is negative)."""
    buffer = io.StringIO()
    writer = safe_csv.writer(buffer, lineterminator="\n")
    writer.writerow(content.headers)
    if hxl:
        writer.writerow(content.hashtags)
    writer.writerows(content.rows)
    return buffer.getvalue()
