"""Words for what the records say about people: statuses, sexes and the events of a
person's history, each a message of the catalogue (translated where it is shown)."""

from __future__ import annotations

from typing import Any

from campledger.api.console.i18n import N_
from campledger.api.console.screening_words import OUTCOME_NAMES, STEP_NAMES
from campledger.domain.model.values import ErasureBasis, PersonStatus, Relationship, Sex

STATUS_NAMES = {
    PersonStatus.PRESENT: N_("Present"),
    PersonStatus.HELD: N_("Held"),
    PersonStatus.IN_TRANSIT: N_("In transit"),
    PersonStatus.UNACCOUNTED: N_("Unaccounted for"),
    PersonStatus.DEPARTED: N_("Departed"),
    PersonStatus.MERGED: N_("Merged into another record"),
}

SEX_NAMES = {
    Sex.FEMALE: N_("Female"),
    Sex.MALE: N_("Male"),
    Sex.UNKNOWN: N_("Unknown"),
}

RELATIONSHIP_NAMES = {
    Relationship.FOCAL_POINT: N_("Focal point"),
    Relationship.SPOUSE: N_("Spouse"),
    Relationship.CHILD: N_("Child"),
    Relationship.PARENT: N_("Parent"),
    Relationship.SIBLING: N_("Sibling"),
    Relationship.GRANDCHILD: N_("Grandchild"),
    Relationship.GRANDPARENT: N_("Grandparent"),
    Relationship.OTHER_RELATIVE: N_("Other relative"),
    Relationship.NON_RELATIVE: N_("Not a relative"),
}

# A person's events, by the name ``domain/history.py`` gives them.
ACTION_NAMES = {
    "registered": N_("Registered"),
    "screening_step_recorded": N_("Screening step recorded"),
    "held": N_("Held"),
    "released": N_("Released"),
    "placed_on_manifest": N_("Placed on a transfer manifest"),
    "removed_from_manifest": N_("Removed from a transfer manifest"),
    "transfer_dispatched": N_("Transfer dispatched"),
    "transfer_received": N_("Transfer received"),
    "marked_unaccounted_for": N_("Marked unaccounted for"),
    "departed": N_("Departed"),
    "detail_corrected": N_("Detail corrected"),
    "merged_into": N_("Merged into another record"),
    "duplicate_merged": N_("Duplicate record merged in"),
    "personal_data_erased": N_("Personal data erased"),
}

# The references an event may carry, in the order the timeline shows them.
REFERENCE_NAMES = {
    "authority": N_("Authority"),
    "order_reference": N_("Order reference"),
    "review_date": N_("Review date"),
    "in_custody": N_("In custody"),
    "transfer_id": N_("Transfer"),
    "origin": N_("From"),
    "destination": N_("To"),
    "step": N_("Screening step"),
    "outcome": N_("Outcome"),
    "field": N_("Field"),
    "old_value": N_("Old value"),
    "new_value": N_("New value"),
    "survivor_id": N_("Kept record"),
    "duplicate_id": N_("Merged record"),
    "duplicate_registration_number": N_("Merged registration number"),
    "basis": N_("Basis"),
}

PERSONAL_NAMES = {
    "given_name": N_("Given name"),
    "family_name": N_("Family name"),
    "given_name_latin": N_("Given name (Latin letters)"),
    "family_name_latin": N_("Family name (Latin letters)"),
    "date_of_birth": N_("Date of birth"),
    "biometric_reference": N_("Biometric reference"),
}


def written_name(family: str | None, given: str | None) -> str:
    """Family name first (the order a roster sorts by), with the comma of the name's own
    script: an Arabic name keeps an Arabic comma on an English page, and reads right to
    left inside its ``<bdi>``."""
    parts = [part for part in (family, given) if part]
    arabic = any("\u0600" <= char <= "\u06ff" for char in "".join(parts))
    return ("، " if arabic else ", ").join(parts)


ERASURE_BASIS_NAMES = {
    ErasureBasis.SUBJECT_REQUEST: N_("The person asked"),
    ErasureBasis.COURT_ORDER: N_("A court order"),
    ErasureBasis.DATA_PROTECTION_OFFICER: N_("The data protection officer's decision"),
    ErasureBasis.RETENTION: N_("The retention policy"),
}

# Facts of a history entry stored as a code, and the words each code is shown as.
CODED_REFERENCES = {"step": STEP_NAMES, "outcome": OUTCOME_NAMES, "basis": ERASURE_BASIS_NAMES}

# What the pages about people give their templates.
WORDS: dict[str, Any] = {
    "status_names": STATUS_NAMES,
    "sex_names": SEX_NAMES,
    "relationship_names": RELATIONSHIP_NAMES,
    "action_names": ACTION_NAMES,
    "reference_names": REFERENCE_NAMES,
    "coded_references": CODED_REFERENCES,
    "personal_names": PERSONAL_NAMES,
    "written_name": written_name,
}
