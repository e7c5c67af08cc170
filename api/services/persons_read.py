"""A person's current state as every way in reads it: the caller's scope, personal
fields only for roles that may see them, and every such read on the access trail."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from campledger.api.services.access import check_scope
from campledger.api.services.access_trail import record_access
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import not_found
from campledger.api.services.scoping import person_sites
from campledger.domain.service.registry import Registry
from campledger.projections import roster


def check_person_scope(principal: Principal, registry: Registry, person_id: UUID) -> None:
    """Refuse a site-scoped caller a person who is neither at its sites nor travelling
    to or from one of them."""
    if principal.scoped:
        check_scope(principal, *person_sites(registry, person_id))


def read_person(
    conn: psycopg.Connection[Any],
    registry: Registry,
    principal: Principal,
    person_id: UUID,
    purpose: str,
) -> dict[str, Any]:
    """The person's roster row; names, date of birth and biometric reference only for
    roles allowed to see personal data, and then the read is put on the access trail
    under ``purpose`` (the way in that showed it)."""
    check_person_scope(principal, registry, person_id)
    personal = principal.can(Permission.PERSONAL_DATA)
    row = roster.get_person_row(conn, person_id, include_personal=personal)
    if row is None:
        raise not_found(
            "person", f"no person with id {person_id} (or not yet projected: pass wait_for)"
        )
    if personal:
        record_access(conn, principal.actor, person_id, purpose)
    return row
