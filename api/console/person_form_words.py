"""Words for the forms of a person's page: the details that may be corrected, the
reasons a person leaves the caseload, and what the reader is told once either is
recorded, each a message of the catalogue."""

from __future__ import annotations

from campledger.api.console.i18n import N_
from campledger.domain.model.corrections import CORRECTABLE
from campledger.domain.model.values import DepartureReason

# In the order the form lists them: who the person is first.
CORRECTABLE_NAMES = {
    "given_name": N_("Given name"),
    "family_name": N_("Family name"),
    "given_name_latin": N_("Given name (Latin letters)"),
    "family_name_latin": N_("Family name (Latin letters)"),
    "date_of_birth": N_("Date of birth"),
    "estimated_age": N_("Estimated age"),
    "sex": N_("Sex"),
    "nationality": N_("Nationality"),
    "registration_number": N_("Registration number"),
    "biometric_reference": N_("Biometric reference"),
    "household_id": N_("Household"),
    "relationship": N_("Relationship in the household"),
    "specific_needs": N_("Specific needs"),
}
assert set(CORRECTABLE_NAMES) == set(CORRECTABLE), "every correctable detail is named"

DEPARTURE_NAMES = {
    DepartureReason.RELEASED_TO_COMMUNITY: N_("Released to the community"),
    DepartureReason.RETURNED: N_("Returned"),
    DepartureReason.RESETTLED: N_("Resettled"),
    DepartureReason.REPATRIATED: N_("Repatriated"),
    DepartureReason.DECEASED: N_("Deceased"),
    DepartureReason.ABSCONDED: N_("Absconded"),
}
assert set(DEPARTURE_NAMES) == set(DepartureReason), "every departure reason is named"

DONE = {
    "corrected": N_("The correction is recorded."),
    "departed": N_("The departure is recorded."),
}
