"""Who may do what, and where: the two refusals every way in gives before acting."""

from __future__ import annotations

from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import ApiProblem


def check_permission(principal: Principal, permission: Permission) -> None:
    """Refuse a caller whose role lacks this permission."""
    if not principal.can(permission):
        raise ApiProblem(
            403,
            "forbidden",
            "Forbidden",
            f"the {principal.role.value} role may not do this ({permission.value})",
        )


def check_scope(principal: Principal, *site_codes: str | None) -> None:
    """Refuse a site-scoped caller acting on a site outside its scope (any one of the
    given sites suffices: a transfer belongs to both its ends)."""
    if not principal.covers_any(site_codes):
        raise ApiProblem(
            403, "out-of-scope", "Out of scope", "this token is not scoped to that site"
        )
