"""How events stored by earlier versions read today.

The log is never rewritten: an event stored before one of its fields existed is read with
the value that was true of it then, by the upcasters its class names (``upcast_v1_v2``
and so on; each event class says what its versions added). Several events gained the
same fields in the same release, so they share these.
"""

from __future__ import annotations

from typing import Any

from campledger.domain.model.needs import upcast_needs

State = dict[str, Any]


def needs_in_standard_codes(state: State) -> None:
    """Arrivals before UNHCR's codes carry the first ad hoc codes: each reads as its
    standard code (``needs.LEGACY_NEEDS``)."""
    state["specific_needs"] = upcast_needs(state.get("specific_needs")) or []


def corrected_needs_in_standard_codes(state: State) -> None:
    """A correction of specific needs from before UNHCR's codes, as above."""
    if state.get("field") == "specific_needs":
        state["new_value"] = upcast_needs(state.get("new_value"))


def no_latin_names(state: State) -> None:
    """Names were recorded in one form only."""
    state.update(given_name_latin=None, family_name_latin=None)


def no_hold_order(state: State) -> None:
    """The log never said who ordered the holds (or 'held' outcomes) recorded then."""
    state.update(authority="", order_reference="", review_date=None)


def no_release_order(state: State) -> None:
    """Nor who ordered a release."""
    state.update(authority="", order_reference="")


def not_in_custody(state: State) -> None:
    """Nobody held could be placed on a manifest then, so nobody travelled in custody."""
    state["in_custody"] = False


def nobody_in_custody(state: State) -> None:
    """The same, of a whole transfer's plan."""
    state["custody"] = []


def not_family_tracing(state: State) -> None:
    """No correction joined a household as family tracing."""
    state["family_tracing"] = False


def dates_of_birth_to_the_day(state: State) -> None:
    """Every date of birth recorded before a year alone could be was a full date."""
    state["date_of_birth_precision"] = "day" if state.get("date_of_birth") else None
