"""The console's pages, and the navigation built from them.

A page is listed here with its router and the permission it needs: the navigation shows
exactly the pages a person's role may open, and the same permission guards each page's
routes (a page requested by URL without it is refused), so the two cannot disagree and a
page not built yet cannot appear as a dead link.

Each page sits under the permission its API reads need (overview ``sites:read``,
transfers ``transfers:read``, ...), so a role sees the same things in both; the accounts
page, which the API does not have, under ``accounts:admin``, an administrator's alone,
with all it leads to: creating an account, and the API tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from campledger.api.console import (
    account_forms,
    accounts,
    audit,
    duplicates,
    holds,
    households,
    overview,
    persons,
    registration,
    rosters,
    screening,
    tokens,
    transfers,
)
from campledger.api.console.i18n import N_
from campledger.api.services.auth import Permission, Principal


@dataclass(frozen=True)
class Page:
    """One entry of the navigation: where it is, what it is called, who may open it."""

    key: str
    path: str
    # A message of the catalogue (marked with ``N_``), translated where it is shown.
    title: str
    permission: Permission
    router: APIRouter

    def open_to(self, principal: Principal) -> bool:
        return principal.can(self.permission)


@dataclass(frozen=True)
class Navigation:
    pages: Sequence[Page]

    def for_principal(self, principal: Principal) -> list[Page]:
        return [page for page in self.pages if page.open_to(principal)]


def _together(*routers: APIRouter) -> APIRouter:
    """One page's routes, from the modules that each serve a part of it."""
    router = APIRouter()
    for part in routers:
        router.include_router(part)
    return router


# The accounts page, the form that creates one, and the API tokens it leads to.
ACCOUNTS_ROUTES = _together(accounts.router, account_forms.router, tokens.router)

# In the order the menu shows them.
PAGES: tuple[Page, ...] = (
    Page("overview", "/overview", N_("Overview"), Permission.SITES_READ, overview.router),
    Page("rosters", "/sites", N_("Rosters"), Permission.ROSTERS_READ, rosters.router),
    Page("people", "/persons", N_("People"), Permission.PERSONS_READ, persons.router),
    # A place of work, like the screening queue: only those who register have it.
    Page("register", "/register", N_("Register"), Permission.ARRIVALS_WRITE, registration.router),
    Page(
        "households", "/households", N_("Households"), Permission.HOUSEHOLDS_READ, households.router
    ),
    Page("transfers", "/transfers", N_("Transfers"), Permission.TRANSFERS_READ, transfers.router),
    Page("holds", "/holds", N_("Holds"), Permission.HOLDS_READ, holds.router),
    # A queue of work, not a read: only those who record screening have it.
    Page("screening", "/screening", N_("Screening"), Permission.SCREENING_WRITE, screening.router),
    Page(
        "duplicates", "/duplicates", N_("Duplicates"), Permission.DUPLICATES_READ, duplicates.router
    ),
    Page("audit", "/audit", N_("Audit"), Permission.AUDIT_READ, audit.router),
    Page("accounts", "/accounts", N_("Accounts"), Permission.ACCOUNTS_ADMIN, ACCOUNTS_ROUTES),
)
