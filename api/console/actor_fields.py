"""What the forms that create an account or an API token share: the role, the sites (all,
or those ticked, each a site of the operation), and the service's refusals, by their code,
as problems beside the field they concern, in the reader's language.

Sites are chosen explicitly, all or some: a form sent without a choice, or with sites
ticked under "all sites", is refused rather than read as every site, since reaching every
site is the wider power. Whatever the person typed is checked by the service
(``api/services/accounts.py``, ``auth.py``), as for ``campledger user`` and ``token``;
the form checks only what the service does not know: that each site is the operation's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
from fastapi import Form
from starlette.responses import Response

from campledger.api.console.forms import GENERIC, Fields, Problem
from campledger.api.console.i18n import N_
from campledger.api.console.words import ROLE_DUTIES
from campledger.api.services.actor_names import MAX_NAME_LENGTH, Refused
from campledger.api.services.auth import Role
from campledger.projections import occupancy

# The sites a form may tick: far more than an operation has.
Ticked = Annotated[list[str], Form(max_length=1000)]

ALL_SITES, SOME_SITES = "all", "some"

NAME_RULE = N_("Use at most %(count)s characters: letters, digits, spaces and punctuation.")
CHOOSE_ROLE = N_("Choose one of the roles.")
CHOOSE_LANGUAGE = N_("Choose one of the languages.")
CHOOSE_SCOPE = N_("Choose all sites, or only the sites you tick.")
TICK_A_SITE = N_("Tick at least one site, or choose all sites.")
TICKED_UNDER_ALL = N_(
    "You chose all sites and ticked some: choose only the sites ticked, or untick them."
)
UNKNOWN_SITE = N_("There is no site %(code)s in this operation.")

# The refusals both services share, by code; each form adds its own (a name taken).
SHARED_REFUSALS = {
    "bad-name": Problem(NAME_RULE, "name", {"count": MAX_NAME_LENGTH}),
    "unknown-role": Problem(CHOOSE_ROLE, "role"),
    "unknown-language": Problem(CHOOSE_LANGUAGE, "locale"),
}

# What the role and sites fields draw with (actor_fields.html).
FIELD_WORDS: dict[str, Any] = {"roles": tuple(Role), "role_duties": ROLE_DUTIES}


def operation_sites(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every site of the operation, open or closed, by code: what an account or a token
    may be held to."""
    return occupancy.list_sites(conn)


def chosen_sites(
    scope: str, ticked: Sequence[str], sites: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[Problem]]:
    """The sites the form chose (empty: all) and the problems with that choice."""
    if scope == ALL_SITES:
        return [], [Problem(TICKED_UNDER_ALL, "sites")] if ticked else []
    if scope != SOME_SITES:
        return [], [Problem(CHOOSE_SCOPE, "sites")]
    if not ticked:
        return [], [Problem(TICK_A_SITE, "sites")]
    known = {site["code"] for site in sites}
    unknown = [code for code in ticked if code not in known]
    if unknown:
        return [], [Problem(UNKNOWN_SITE, "sites", {"code": unknown[0]})]
    return sorted(set(ticked)), []


def chosen_role(role: str) -> list[Problem]:
    """A role left unchosen (the service refuses one that is not a role)."""
    return [] if role else [Problem(CHOOSE_ROLE, "role")]


@dataclass(frozen=True)
class Actor:
    """Who a creation form says will act, as read from it: the name typed, the sites
    chosen (empty: all), the operation's sites (to draw the form again) and what is wrong."""

    name: str
    sites: list[str]
    known: list[dict[str, Any]]
    problems: list[Problem]


def read_actor(
    conn: psycopg.Connection[Any], sent: Mapping[str, str], ticked: Sequence[str]
) -> Actor:
    """The name, role and sites of an account's or a token's form, checked as far as the
    form checks them; the service checks the rest when asked to create."""
    known = operation_sites(conn)
    fields = Fields(dict(sent))
    name = fields.text("name")
    chosen, problems = chosen_sites(sent.get("scope", ""), ticked, known)
    return Actor(name, chosen, known, [*fields.problems, *chosen_role(sent["role"]), *problems])


def refusal(error: Refused, own: Mapping[str, Problem]) -> Problem:
    """The service's refusal as the form's problem: the form's own words for its code,
    else the words both forms share, else the service's message as it is."""
    found = own.get(error.code) or SHARED_REFUSALS.get(error.code)
    if found is not None:
        return found
    return Problem(GENERIC, None, {"detail": str(error)}, str(error), error.code)


def shown_once(response: Response) -> Response:
    """A page that carries a secret (a one-time password, a token): every answer is
    no-store already (api/http/headers.py), but this one says so itself, as it must not
    depend on what it is mounted in."""
    response.headers["Cache-Control"] = "no-store"
    return response
