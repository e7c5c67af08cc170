"""Which forms a person's page offers its reader: a correction and a departure, each to a
role that may send it and only where the reader's sites reach the person, as the command
catalogue would allow it (``api/services/catalogue.py``); a page never offers a form its
answer would refuse by role or by site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request

from campledger.api.console.forms import new_form_key
from campledger.api.console.person_form_words import CORRECTABLE_NAMES, DEPARTURE_NAMES
from campledger.api.console.reading import principal, registry
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.scoping import person_sites
from campledger.domain.model.values import PERSONAL_FIELDS, PersonStatus

HOUSEHOLD = "household_id"


@dataclass(frozen=True)
class Offers:
    # Corrects any detail (corrections:write).
    correct: bool
    # Sets a household id as family tracing (households:trace): a site manager traces
    # families without correcting anything else.
    trace: bool
    depart: bool

    @property
    def correction(self) -> bool:
        return self.correct or self.trace

    def correctable(self) -> list[tuple[str, str]]:
        if self.correct:
            return list(CORRECTABLE_NAMES.items())
        return [(HOUSEHOLD, CORRECTABLE_NAMES[HOUSEHOLD])] if self.trace else []


def may_correct(reader: Principal) -> bool:
    """Whether the role sends corrections at all (each one's permission depends on it)."""
    return reader.can(Permission.CORRECTIONS_WRITE) or reader.can(Permission.FAMILY_TRACING)


def offers(request: Request, person: dict[str, Any]) -> Offers:
    reader = principal(request)
    person_id = UUID(str(person["person_id"]))
    if not (may_correct(reader) or reader.can(Permission.DEPARTURES_WRITE)):
        return Offers(correct=False, trace=False, depart=False)
    here = reader.covers_any(person_sites(registry(request), person_id))
    # A merged record is closed to everything; a departed one may still be corrected.
    open_record = here and person["status"] != PersonStatus.MERGED
    on_site = person["status"] in (PersonStatus.PRESENT, PersonStatus.HELD)
    return Offers(
        correct=open_record and reader.can(Permission.CORRECTIONS_WRITE),
        trace=open_record and reader.can(Permission.FAMILY_TRACING),
        depart=here and on_site and reader.can(Permission.DEPARTURES_WRITE),
    )


def form_values(offered: Offers, person: dict[str, Any], sent: dict[str, str]) -> dict[str, Any]:
    """What the page's forms need: their keys (the one sent again when drawn after a
    refusal, so that a double click of the corrected form still writes once), and the
    version of the person the reader saw, which a correction or departure made from a
    page gone stale is refused for."""
    form = sent.get("form")
    return {
        "offers": offered,
        "sent": sent,
        # Erased, a name or a date of birth can no longer be written (409 on the API).
        "correctable": [
            (field, label)
            for field, label in offered.correctable()
            if not (person.get("erased") and field in PERSONAL_FIELDS)
        ],
        "departure_reasons": list(DEPARTURE_NAMES.items()),
        "correct_key": sent["form_key"] if form == "correction" else new_form_key(),
        "depart_key": sent["form_key"] if form == "departure" else new_form_key(),
        "version": sent.get("version") or person["version"],
    }
