"""Family tracing: joining a household whose members are at sites outside one's own.

Household ids are guessable (``HH-01-0001``). Without this rule a registrar at one site
could correct a person's household id into another site's family and so learn who that
family is and where, and turn its households "separated". Joining such a household is
family tracing: a deliberate act, for roles allowed to trace families across sites
(``households:trace``), asked for explicitly in the request (``family_tracing: true``),
and recorded on the correction event under its actor.

The household's members are looked up in the households read model: the log has no
index by household. A household registered at another site in the last moments, not yet
projected, is not seen here; household reads still show its members to a scoped reader
only as counted (``projections.households``), so the join alone reveals nobody.

Rules stated once, for the HTTP route and offline sync alike.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from campledger.api.services.auth import Principal
from campledger.api.services.problems import ApiProblem
from campledger.domain.model import errors
from campledger.domain.model.corrections import parse_correction
from campledger.projections import households

HOUSEHOLD = "household_id"

# (household id, the person joining) -> the sites of the household's other members.
HouseholdSites = Callable[[str, UUID], Collection[str | None]]


def households_in(pool: ConnectionPool[Any]) -> HouseholdSites:
    """Where each household's members are, as the households read model has them."""

    def sites(household_id: str, joining: UUID) -> Collection[str | None]:
        with pool.connection() as conn:
            return households.member_sites(conn, household_id, excluding=joining)

    return sites


def check_household_join(
    principal: Principal,
    person_id: UUID,
    field: str,
    value: Any,
    family_tracing: bool,
    household_sites: HouseholdSites,
) -> None:
    """Refuse setting a household id whose members are at sites outside the caller's
    scope, unless asked for as family tracing (whose permission ``api.catalogue``
    checked). An unscoped token covers every site: nothing to refuse."""
    if field != HOUSEHOLD or not principal.scoped or family_tracing:
        return
    try:
        # The household id as it would be stored, so that " HH-1" is HH-1 here too.
        household = parse_correction(field, value, today=datetime.now(UTC).date())
    except errors.DomainError:
        return  # the command refuses it with the domain's own error
    if household is None:
        return  # leaving a household joins nobody
    if all(principal.covers(site) for site in household_sites(household, person_id)):
        return
    # Neither which sites nor how many members: the caller learns only that the household
    # reaches beyond its scope.
    raise ApiProblem(
        403,
        "household-outside-scope",
        "Household outside scope",
        "this household has members at sites outside this token's scope; joining it is "
        "family tracing, which a role allowed to trace families must ask for explicitly "
        "(family_tracing: true)",
    )
