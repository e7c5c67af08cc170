"""Where a person belongs, for site scoping, and which other persons a caller may be told of.

No FastAPI here: the HTTP routes, offline sync and the problem bodies of both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from campledger.api.services.auth import Permission, Principal
from campledger.domain.model import errors
from campledger.domain.service.registry import Registry

PersonFilter = Callable[[str], bool]


def person_sites(registry: Registry, person_id: UUID) -> list[str | None]:
    """The sites a person belongs to for scoping: where they are, or both ends of the
    transfer they are travelling on. A record merged into another belongs where the kept
    record does: it leads there, and a merge sent again must meet the same scope to be
    answered as the first was."""
    person = registry.get_person(person_id)
    if person.merged_into is not None:
        return person_sites(registry, person.merged_into)
    if person.site_code is not None:
        return [person.site_code]
    if person.transfer_id is not None:
        transfer = registry.get_transfer(person.transfer_id)
        return [transfer.origin, transfer.destination]
    return [None]


def within(principal: Principal) -> list[str] | None:
    """The sites a scoped caller's lists are limited to (None: every site)."""
    return sorted(principal.sites) if principal.scoped else None


def nobody(_: str) -> bool:
    return False


def everybody(_: str) -> bool:
    return True


def persons_visible_to(principal: Principal | None, registry: Registry | None) -> PersonFilter:
    """Which other person ids an error may name to this caller.

    Which record already holds a registration number or a biometric reference says
    something about that person: only roles that may see personal data learn it, and a
    site-scoped caller only for persons at its sites (the id would open the door to a
    family it has no business with, and it could do nothing with it anyway).
    """
    if principal is None or not principal.can(Permission.PERSONAL_DATA):
        return nobody
    if not principal.scoped:
        return everybody
    if registry is None:
        return nobody

    def visible(person: str) -> bool:
        try:
            return principal.covers_any(person_sites(registry, UUID(person)))
        except (ValueError, errors.DomainError):
            return False

    return visible
