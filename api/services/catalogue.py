"""Every command a caller may send, stated once: the permission it needs and the sites it
touches. The HTTP routes, offline sync and the console authorise and run commands here,
so a rule cannot differ between the ways in.

A site-scoped token may act only where the command touches one of its sites: each
command names groups of sites, and the token must cover a site of every group (a transfer
belongs to both its ends; a merge touches both records). Sites are looked up only for a
scoped token, so an unscoped one gets the handler's own "not found".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from campledger.api.services.access import check_permission, check_scope
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.family_tracing import HouseholdSites, check_household_join
from campledger.api.services.scoping import person_sites
from campledger.domain import commands
from campledger.domain.commands import Command, PersonCommand, every_command
from campledger.domain.service.registry import CommandResult, Registry

C = TypeVar("C", bound=Command)
# (admin1 p-code, admin2 p-code) -> None, or the refusal: the loaded gazetteer's check
# (``api/services/gazetteer.py``), bound to a connection by each way in.
SiteAreas = Callable[[str | None, str | None], None]
SiteGroups = Sequence[Sequence[str | None]]


@dataclass(frozen=True)
class Entry(Generic[C]):
    # The permission a command needs; a function of the command when it depends on it.
    permission: Permission | Callable[[C], Permission]
    sites: Callable[[C, Registry], SiteGroups]

    def needs(self, command: C) -> Permission:
        return (
            self.permission if isinstance(self.permission, Permission) else self.permission(command)
        )


def _at(*names: str) -> Callable[[Any, Registry], SiteGroups]:
    return lambda c, _: [[getattr(c, name) for name in names]]


def _person(c: PersonCommand, registry: Registry) -> SiteGroups:
    return [person_sites(registry, c.person_id)]


def _origin(
    c: commands.DispatchTransfer | commands.CancelTransfer, registry: Registry
) -> SiteGroups:
    # The origin planned the transfer and holds its people: only it dispatches or cancels.
    return [[registry.get_transfer(c.transfer_id).origin]]


def _either_end(c: commands.ReconcileTransfer, registry: Registry) -> SiteGroups:
    transfer = registry.get_transfer(c.transfer_id)
    return [[transfer.origin, transfer.destination]]


def _correction_permission(c: commands.CorrectDetail) -> Permission:
    # A site manager traces families without correcting anything else.
    return Permission.FAMILY_TRACING if c.family_tracing else Permission.CORRECTIONS_WRITE


CATALOGUE: dict[type[Command], Entry[Any]] = {
    commands.OpenSite: Entry(Permission.SITES_WRITE, _at("code")),
    commands.ChangeSiteCapacity: Entry(Permission.SITES_WRITE, _at("code")),
    commands.CloseSite: Entry(Permission.SITES_WRITE, _at("code")),
    commands.RegisterArrival: Entry(Permission.ARRIVALS_WRITE, _at("site_code")),
    commands.RegisterArrivals: Entry(Permission.ARRIVALS_WRITE, _at("site_code")),
    commands.RecordScreeningStep: Entry(Permission.SCREENING_WRITE, _person),
    commands.HoldPerson: Entry(Permission.SCREENING_WRITE, _person),
    commands.ReleasePerson: Entry(Permission.SCREENING_WRITE, _person),
    commands.RecordDeparture: Entry(Permission.DEPARTURES_WRITE, _person),
    commands.CorrectDetail: Entry(_correction_permission, _person),
    commands.ErasePersonalData: Entry(Permission.PERSONAL_DATA_ERASE, _person),
    commands.MergePersons: Entry(
        Permission.MERGES_WRITE,
        lambda c, r: [person_sites(r, c.duplicate_id), person_sites(r, c.survivor_id)],
    ),
    commands.DismissDuplicate: Entry(
        Permission.DUPLICATES_REVIEW,
        lambda c, r: [person_sites(r, c.person_id), person_sites(r, c.other_id)],
    ),
    commands.PlanTransfer: Entry(Permission.TRANSFERS_WRITE, _at("origin")),
    commands.DispatchTransfer: Entry(Permission.TRANSFERS_WRITE, _origin),
    commands.ReceiveTransfer: Entry(Permission.TRANSFERS_WRITE, _at("site_code")),
    commands.ReconcileTransfer: Entry(Permission.TRANSFERS_WRITE, _either_end),
    commands.CancelTransfer: Entry(Permission.TRANSFERS_WRITE, _origin),
}
assert set(CATALOGUE) == set(every_command()), "every command is in the catalogue"


def permission_of(command: type[Command]) -> Permission:
    """The permission a route for this command declares (a command whose permission
    depends on its fields declares none: see ``authorise``)."""
    needed = CATALOGUE[command].permission
    if not isinstance(needed, Permission):
        raise TypeError(f"{command.__name__}'s permission depends on the command")
    return needed


def authorise(
    principal: Principal,
    command: Command,
    registry: Registry,
    households: HouseholdSites | None = None,
) -> None:
    """Refuse the caller unless its role may send this command and, for a site-scoped
    token, the command touches its sites. ``households`` says where households' members
    are, for the family-tracing rule of corrections."""
    entry = CATALOGUE[type(command)]
    check_permission(principal, entry.needs(command))
    if principal.scoped:
        for group in entry.sites(command, registry):
            check_scope(principal, *group)
    if isinstance(command, commands.CorrectDetail):
        if households is None:
            raise TypeError("a correction is authorised knowing where households are")
        check_household_join(
            principal, command.person_id, command.field, command.value,
            command.family_tracing, households,
        )  # fmt: skip


def execute(
    principal: Principal,
    command: Command,
    registry: Registry,
    *,
    idempotency_key: str | None = None,
    households: HouseholdSites | None = None,
    actor: str | None = None,
    site_areas: SiteAreas | None = None,
) -> CommandResult:
    """Authorise the command, then run it as ``actor`` (by default the caller itself).
    ``site_areas`` checks a site's p-codes against the gazetteer before it is opened."""
    authorise(principal, command, registry, households)
    if isinstance(command, commands.OpenSite):
        if site_areas is None:
            raise TypeError("a site is opened knowing the gazetteer")
        site_areas(command.admin1_pcode, command.admin2_pcode)
    return registry.handle(command, actor=actor or principal.actor, idempotency_key=idempotency_key)
