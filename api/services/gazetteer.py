"""A COD gazetteer: the admin areas of a country as OCHA's Common Operational Dataset
lists them, loaded from its tabular file, and the check a site's p-codes meet once it is.

The shape of a p-code (an ISO 3166 country prefix; an admin2 under its admin1) is the
domain's rule (``domain/model/pcodes.py``) and holds everywhere. Whether a p-code names a
real area needs the country's gazetteer: when one is loaded, a site opened in that country
must name admin areas it holds, an admin2 under its own admin1 there. Countries without a
gazetteer are checked by shape alone.

The file is the COD-AB attribute table as CSV (HDX publishes it beside the shapefiles, e.g.
``tcd_adminboundaries_tabulardata.xlsx``, saved as CSV): one row per admin2 area, with the
columns ``ADM1_PCODE``, ``ADM1_EN``, ``ADM2_PCODE``, ``ADM2_EN`` (``ADM0_*``, ``*_REF``,
``validOn`` and the rest are ignored). Column names are matched in any case; names in
French (``ADM1_FR``) are used where there is no English one. A file of admin1 areas only
(no ``ADM2_PCODE`` column) loads those.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from campledger.api.database import gazetteer as table
from campledger.api.database.gazetteer import Area
from campledger.domain.model import errors
from campledger.domain.model.pcodes import country_of, parse_pcode, parse_pcodes

NAME_COLUMNS = ("EN", "FR", "NAME")


class Gazetteer(Protocol):
    def covers(self, country: str) -> bool:
        """Whether a gazetteer of this country (p-code prefix) is loaded."""
        ...

    def area(self, pcode: str) -> Area | None: ...


@dataclass(frozen=True)
class BadGazetteerLine(Exception):
    """A line of the file that cannot be loaded: nothing of the file is stored."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


def read_cod(lines: Iterable[str]) -> list[Area]:
    """The admin1 and admin2 areas of a COD-AB table; raises ``BadGazetteerLine`` at the
    first line that is not one (an ill-formed p-code, an admin2 outside its admin1, the
    same p-code under two parents)."""
    reader = csv.DictReader(iter(lines))
    columns = {name.strip().upper(): name for name in reader.fieldnames or ()}
    if "ADM1_PCODE" not in columns:
        raise BadGazetteerLine(1, "header", "the file has no ADM1_PCODE column")
    found: dict[str, Area] = {}
    for number, row in enumerate(reader, start=2):
        areas = list(_areas(row, columns, number))
        for area in areas:
            known = found.setdefault(area.pcode, area)
            if known.parent != area.parent or known.level != area.level:
                column = f"ADM{area.level}_PCODE"
                raise BadGazetteerLine(
                    number, column, f"{area.pcode} is listed under two admin areas"
                )
    return list(found.values())


def _areas(row: dict[str, Any], columns: dict[str, str], number: int) -> Iterator[Area]:
    def cell(name: str) -> str:
        value = row.get(columns.get(name, ""), "")
        return value.strip() if isinstance(value, str) else ""

    def pcode(level: int) -> str | None:
        column = f"ADM{level}_PCODE"
        try:
            return parse_pcode(f"admin{level}", cell(column))
        except errors.InvalidPcode as error:
            raise BadGazetteerLine(number, column, error.message) from None

    def name(level: int) -> str:
        return next((n for c in NAME_COLUMNS if (n := cell(f"ADM{level}_{c}"))), "")

    admin1 = pcode(1)
    if admin1 is None:
        raise BadGazetteerLine(number, "ADM1_PCODE", "every row names its admin1 p-code")
    country = country_of(admin1)
    assert country is not None  # parse_pcode refused any other
    yield Area(admin1, country, 1, None, name(1))
    admin2 = pcode(2) if "ADM2_PCODE" in columns else None
    if admin2 is not None:
        try:
            parse_pcodes(admin1, admin2)
        except errors.Admin2OutsideAdmin1 as error:
            raise BadGazetteerLine(number, "ADM2_PCODE", error.message) from None
        yield Area(admin2, country, 2, admin1, name(2))


def check_site_areas(gazetteer: Gazetteer, admin1: str | None, admin2: str | None) -> None:
    """Refuse p-codes the loaded gazetteer of their country does not hold at their level,
    or an admin2 that lies under another admin1 there. The shape comes first (the same
    refusal the domain gives), so only well-formed codes are looked up."""
    one, two = parse_pcodes(admin1, admin2)
    for level, code in ((1, one), (2, two)):
        if code is None:
            continue
        country = country_of(code)
        if country is None or not gazetteer.covers(country):
            continue
        area = gazetteer.area(code)
        if area is None or area.level != level:
            raise errors.UnknownPcode(
                f"admin{level} p-code {code} is not an admin{level} area in the gazetteer "
                f"loaded for {country}",
                field=f"admin{level}_pcode",
            )
        if level == 2 and one is not None and area.parent != one:
            raise errors.Admin2OutsideAdmin1(
                f"admin2 p-code {code} lies under {area.parent}, not {one}, in the gazetteer "
                f"loaded for {country}",
                field="admin2_pcode",
            )


class _OnConnection:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def covers(self, country: str) -> bool:
        return table.has_country(self.conn, country)

    def area(self, pcode: str) -> Area | None:
        return table.area(self.conn, pcode)


def check_in_pool(pool: ConnectionPool[Any], admin1: str | None, admin2: str | None) -> None:
    with pool.connection() as conn:
        check_site_areas(_OnConnection(conn), admin1, admin2)


def check_at(conninfo: str, admin1: str | None, admin2: str | None) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        check_site_areas(_OnConnection(conn), admin1, admin2)


def load(conn: psycopg.Connection[Any], lines: Iterable[str]) -> dict[str, int]:
    """Read the whole file, then replace its countries' areas; counts by country."""
    areas = read_cod(lines)
    table.replace_countries(conn, areas)
    counts: dict[str, int] = {}
    for area in areas:
        counts[area.country] = counts.get(area.country, 0) + 1
    return counts
