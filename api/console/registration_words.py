"""The registration grid's words: its columns and their hints, in the catalogue."""

from __future__ import annotations

from campledger.api.console.i18n import N_

COLUMN_NAMES = {
    "household_id": N_("Household"),
    "relationship": N_("Relationship"),
    "given_name": N_("Given name"),
    "family_name": N_("Family name"),
    "given_name_latin": N_("Given name (Latin letters)"),
    "family_name_latin": N_("Family name (Latin letters)"),
    "sex": N_("Sex"),
    "date_of_birth": N_("Date of birth"),
    "estimated_age": N_("Estimated age"),
    "nationality": N_("Nationality"),
    "registration_number": N_("Registration number"),
    "biometric_reference": N_("Biometric reference"),
    "specific_needs": N_("Specific needs"),
}
# What each column takes, where it is not plain: shown under the grid's headings.
COLUMN_HINTS = {
    "date_of_birth": N_("YYYY-MM-DD, or an estimated age"),
    "estimated_age": N_("Years"),
    "nationality": N_("3 letters, e.g. SDN"),
    "specific_needs": N_("Codes, e.g. SM, DS-BD"),
}
# Columns that hold codes and numbers, written left to right in every language.
CODE_COLUMNS = frozenset(
    {
        "household_id",
        "given_name_latin",
        "family_name_latin",
        "date_of_birth",
        "estimated_age",
        "nationality",
        "registration_number",
        "biometric_reference",
        "specific_needs",
    }
)
