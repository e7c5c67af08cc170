"""Opening a site, changing its capacity, closing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campledger.domain.commands.base import Command, Decision, Records, handles
from campledger.domain.model import errors
from campledger.domain.model.site import Site, check_site_code, site_id


@dataclass(frozen=True, kw_only=True)
class OpenSite(Command):
    """Open a site (reception point, screening centre, transit site, camp, hospital,
    holding facility)."""

    command_name = "open_site"
    code: str
    name: str
    kind: str
    capacity: int
    admin1_pcode: str | None = None
    admin2_pcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeSiteCapacity(Command):
    """Change how many people a site can host."""

    command_name = "change_site_capacity"
    code: str
    capacity: int
    reason: str = ""
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CloseSite(Command):
    """Close a site: it receives no more arrivals or transfers."""

    command_name = "close_site"
    code: str
    reason: str = ""
    occurred_at: datetime | None = None


def _already_open(records: Records, command: OpenSite) -> None:
    raise errors.SiteAlreadyExists(f"a site with code {command.code} already exists")


@handles(OpenSite, on_conflict=_already_open)
def open_site(records: Records, c: OpenSite, actor: str, now: datetime) -> Decision:
    check_site_code(c.code)
    if records.exists(site_id(c.code)):
        _already_open(records, c)
    site = Site.open(
        code=c.code,
        name=c.name,
        kind=c.kind,
        capacity=c.capacity,
        admin1_pcode=c.admin1_pcode,
        admin2_pcode=c.admin2_pcode,
        latitude=c.latitude,
        longitude=c.longitude,
        actor=actor,
        occurred_at=c.occurred_at or now,
        now=now,
    )
    return Decision([site], {"site_code": site.code, "site_id": str(site.id)})


@handles(ChangeSiteCapacity)
def change_site_capacity(
    records: Records, c: ChangeSiteCapacity, actor: str, now: datetime
) -> Decision:
    site = records.get_site(c.code)
    site.change_capacity(
        capacity=c.capacity, reason=c.reason, actor=actor, occurred_at=c.occurred_at or now,
        now=now,
    )  # fmt: skip
    return Decision([site], {"site_code": c.code, "capacity": site.capacity})


@handles(CloseSite)
def close_site(records: Records, c: CloseSite, actor: str, now: datetime) -> Decision:
    site = records.get_site(c.code)
    site.close(reason=c.reason, actor=actor, occurred_at=c.occurred_at or now, now=now)
    return Decision([site], {"site_code": c.code})
