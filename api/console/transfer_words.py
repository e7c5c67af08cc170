"""Words for moving people: a transfer's states, where each person on its manifest is,
what an officer is told once an action is recorded, and the domain's refusals about one
person said with the registration number the officer ticked or typed (never an id)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from uuid import UUID

from starlette.exceptions import HTTPException

from campledger.api.console.forms import Problem
from campledger.api.console.i18n import N_
from campledger.domain.model import errors
from campledger.domain.model.registration_numbers import check_registration_number

# A transfer's state, and where each person on its manifest is in it.
STATE_NAMES = {
    "planned": N_("Planned"),
    "dispatched": N_("On the road"),
    "reconciled": N_("Reconciled"),
    "cancelled": N_("Cancelled"),
}
MANIFEST_NAMES = {
    "planned": N_("Waiting to leave"),
    "in_transit": N_("In transit"),
    "received": N_("Received"),
    "unaccounted": N_("Unaccounted for"),
    "cancelled": N_("Transfer cancelled"),
    "removed": N_("Taken off the manifest"),
}

DONE = {
    "planned": N_("The transfer is planned: everyone on its manifest is reserved for it."),
    "dispatched": N_("The transfer is on the road."),
    "cancelled": N_("The transfer is cancelled: everyone on it is free to move again."),
    "received": N_("The people checked in are received."),
    "reconciled": N_(
        "The transfer is reconciled: whoever was not received is now unaccounted for."
    ),
}

# The domain's refusals about one person, naming them by their registration number.
NAMED = {
    "person-not-on-manifest": N_("%(number)s is not on this transfer's manifest."),
    "person-already-received": N_("%(number)s has already been received."),
    "person-not-at-site": N_("%(number)s is not at the site the transfer leaves from."),
    "person-on-another-manifest": N_("%(number)s is already on another transfer."),
    "person-held": N_(
        "%(number)s is held: a held person travels only in custody, to a holding facility "
        "or a hospital. Release them first to move them elsewhere."
    ),
    "custody-changed": N_(
        "%(number)s was held or released after this transfer was planned: cancel it and "
        "plan it again."
    ),
    "person-departed": N_("%(number)s has left the caseload."),
    "person-unaccounted-for": N_("%(number)s is unaccounted for."),
    "person-merged": N_("%(number)s was merged into another record: use the record kept."),
}
NOT_ON_ROSTER = N_("%(number)s is not on the roster of %(site)s.")
NOT_A_NUMBER = N_("%(number)s is not a registration number.")
NOBODY = N_("Tick or type at least one person.")
CONFIRM_RECONCILING = N_("Tick the box to confirm that whoever was not received is missing.")

# Numbers as a scanner or a pasted list gives them: one a line, or between spaces, commas
# or semicolons (Arabic commas included).
_SEPARATORS = re.compile(r"[\s,;،؛]+")


def typed_numbers(text: str) -> Iterator[str]:
    """Each number in a typed or pasted list, in the order given."""
    yield from (number for number in _SEPARATORS.split(text) if number)


def stored_number(typed: str, problems: list[Problem], field: str) -> str | None:
    """The number in its stored form, or a problem naming it."""
    try:
        return check_registration_number(typed)
    except errors.DomainError:
        problems.append(Problem(NOT_A_NUMBER, field, {"number": typed}))
        return None


def ticked_ids(values: list[str] | None) -> list[UUID]:
    """The persons ticked on a list, in its order."""
    try:
        return [UUID(value) for value in values or []]
    except ValueError:
        # Only a forged form ticks something that is not a person.
        raise HTTPException(400) from None


def named(problems: list[Problem], numbers: Mapping[UUID, str | None]) -> list[Problem]:
    """The domain's refusals about one person, said with their registration number."""
    return [_named(problem, numbers) for problem in problems]


def _named(problem: Problem, numbers: Mapping[UUID, str | None]) -> Problem:
    person = problem.about.get("person")
    message = NAMED.get(problem.code)
    try:
        number = numbers.get(UUID(str(person))) if person else None
    except ValueError:
        number = None
    if message is None or number is None:
        return problem
    return Problem(message, problem.field, {"number": number}, problem.detail, problem.code)
