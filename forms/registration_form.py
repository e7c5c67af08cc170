"""Build forms/registration.xlsx: an XLSForm for registering arrivals with KoboToolbox or
ODK Collect, whose exports campledger imports as they are.

    .venv/bin/python forms/registration_form.py [OUT.xlsx]

Every question is named after an arrival's field and every choice is the value campledger
stores (sexes, relationships, UNHCR specific-needs codes, ISO 3166 alpha-3 nationalities),
all read from campledger's own vocabulary: rebuild the form when that changes (a test
checks the committed file is what this script builds). Groups only arrange the screens:
the importer strips their prefixes. Export the submissions as CSV with "XML values and
headers", then ``campledger import arrivals EXPORT.csv --site CODE`` (docs/import.md).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pycountry
import xlsxwriter

from campledger.domain.model.needs import SUB_CODES, SpecificNeed
from campledger.domain.model.registration_numbers import REGISTRATION_NUMBER_MAX
from campledger.domain.model.values import (
    MAX_AGE,
    Relationship,
    Sex,
    nationality_codes,
)

HERE = Path(__file__).resolve().parent
FORM = HERE / "registration.xlsx"
VERSION = "2026112801"

SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint",
                  "constraint_message", "appearance")  # fmt: skip
_NO_DATE = "${date_of_birth} = ''"
SURVEY: list[dict[str, str]] = [
    {"type": "start", "name": "start"},
    {"type": "end", "name": "end"},
    {"type": "begin_group", "name": "person", "label": "Person"},
    {"type": "text", "name": "registration_number", "label": "Registration number",
     "required": "yes", "constraint": f"string-length(.) <= {REGISTRATION_NUMBER_MAX}",
     "constraint_message": f"At most {REGISTRATION_NUMBER_MAX} characters"},
    {"type": "text", "name": "given_name", "label": "Given name",
     "hint": "As written, in any script", "required": "yes"},
    {"type": "text", "name": "family_name", "label": "Family name"},
    {"type": "text", "name": "given_name_latin", "label": "Given name in Latin letters",
     "hint": "As on a document, if the name is written in another script"},
    {"type": "text", "name": "family_name_latin", "label": "Family name in Latin letters"},
    {"type": "select_one sex", "name": "sex", "label": "Sex", "required": "yes"},
    {"type": "select_one nationality", "name": "nationality", "label": "Nationality",
     "required": "yes", "appearance": "minimal"},
    {"type": "date", "name": "date_of_birth", "label": "Date of birth",
     "hint": "Leave empty if unknown", "constraint": ". <= today()",
     "constraint_message": "A date of birth cannot be in the future"},
    {"type": "integer", "name": "estimated_age", "label": "Estimated age in years",
     "required": "yes", "relevant": _NO_DATE, "constraint": f". >= 0 and . <= {MAX_AGE}",
     "constraint_message": f"A whole number from 0 to {MAX_AGE}"},
    {"type": "text", "name": "biometric_reference", "label": "Biometric reference"},
    {"type": "end_group", "name": ""},
    {"type": "begin_group", "name": "household", "label": "Household"},
    {"type": "text", "name": "household_id", "label": "Household id"},
    {"type": "select_one relationship", "name": "relationship",
     "label": "Relationship to the household's focal point", "relevant": "${household_id} != ''"},
    {"type": "select_multiple specific_needs", "name": "specific_needs",
     "label": "Specific needs", "appearance": "minimal"},
    {"type": "end_group", "name": ""},
]  # fmt: skip


# The ICAO codes campledger accepts beside ISO 3166 (EXTRA_NATIONALITY_CODES).
_NO_COUNTRY = {"XXA": "Stateless", "XXB": "Refugee (1951 Convention)", "XXC": "Refugee (other)",
               "XXX": "Unspecified nationality"}  # fmt: skip


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def choices() -> list[tuple[str, str, str]]:
    """(list, value, label): each value exactly as campledger stores it."""
    rows = [("sex", s.value, _label(s.value)) for s in Sex]
    rows += [("relationship", r.value, _label(r.value)) for r in Relationship]
    for need in SpecificNeed:
        rows.append(("specific_needs", need.value, f"{need.value}: {_label(need.name.lower())}"))
        rows += [
            ("specific_needs", code, f"{code}: {label}")
            for code, label in SUB_CODES.items()
            if code.startswith(need.value + "-")
        ]
    for code in nationality_codes():
        country = pycountry.countries.get(alpha_3=code)
        name = country.name if country is not None else _NO_COUNTRY.get(code, "Unknown")
        rows.append(("nationality", code, f"{name} ({code})"))
    return rows


def build(path: Path = FORM) -> None:
    book = xlsxwriter.Workbook(str(path))
    # Fixed properties, so the same vocabulary always builds the same file.
    book.set_properties({"title": "campledger registration", "created": datetime(2026, 1, 1)})
    survey = book.add_worksheet("survey")
    survey.write_row(0, 0, SURVEY_COLUMNS)
    for r, question in enumerate(SURVEY, start=1):
        survey.write_row(r, 0, [question.get(c, "") for c in SURVEY_COLUMNS])
    listed = book.add_worksheet("choices")
    listed.write_row(0, 0, ("list_name", "name", "label"))
    for r, choice in enumerate(choices(), start=1):
        listed.write_row(r, 0, choice)
    settings = book.add_worksheet("settings")
    settings.write_row(0, 0, ("form_title", "form_id", "version", "instance_name"))
    settings.write_row(
        1,
        0,
        ("campledger registration", "campledger_registration", VERSION,
         "concat(${registration_number}, ' ', ${given_name})"),
    )  # fmt: skip
    book.close()


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else FORM)
