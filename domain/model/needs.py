"""Specific needs: UNHCR's standard specific-needs codes, categories and sub-codes.

Partners exchange these codes, so campledger records them as they are: a category
(``SM``, serious medical condition) or one of its sub-codes (``SM-MN``, malnutrition).
The list, its source and how the first ad hoc codes read today: docs/specific-needs.md.
"""

from __future__ import annotations

from enum import StrEnum

from campledger.domain.model import errors


class SpecificNeed(StrEnum):
    """The twelve categories; each is also a code by itself (the need, no detail)."""

    CHILD_AT_RISK = "CR"
    UNACCOMPANIED_MINOR = "UM"
    SEPARATED_CHILD = "SC"
    WOMAN_AT_RISK = "WR"
    OLDER_PERSON_AT_RISK = "ER"
    SINGLE_PARENT = "SP"
    DISABILITY = "DS"
    SERIOUS_MEDICAL_CONDITION = "SM"
    FAMILY_UNITY = "FU"
    LEGAL_AND_PHYSICAL_PROTECTION = "LP"
    TORTURE = "TR"
    SGBV = "SV"


# Sub-codes as UNHCR's specific-needs guidance lists them (docs/specific-needs.md).
SUB_CODES: dict[str, str] = {
    "CR-CP": "child parent",
    "CR-CS": "child spouse",
    "CR-CC": "child carer",
    "CR-TP": "teenage pregnancy",
    "CR-LW": "child engaged in worst forms of child labour",
    "CR-LO": "child engaged in other forms of child labour",
    "CR-NE": "child at risk of not attending school",
    "CR-SE": "child with special education needs",
    "CR-AF": "child associated with armed forces or groups",
    "CR-CL": "child in conflict with the law",
    "SC-CH": "child-headed household",
    "SC-IC": "child in institutional care",
    "SC-FC": "child in foster care",
    "WR-WR": "single woman at risk",
    "WR-SF": "single female household representative",
    "WR-LC": "lactating",
    "ER-NF": "older person unable to care for self",
    "ER-MC": "older person with children",
    "ER-UR": "unaccompanied older person",
    "SP-PT": "single parent",
    "SP-GP": "single grandparent",
    "SP-CG": "single caregiver",
    "DS-BD": "visual impairment (including blindness)",
    "DS-DF": "hearing impairment (including deafness)",
    "DS-PM": "physical disability, moderate",
    "DS-PS": "physical disability, severe",
    "DS-MM": "mental disability, moderate",
    "DS-MS": "mental disability, severe",
    "DS-SD": "speech impairment or disability",
    "SM-MI": "mental illness",
    "SM-MN": "malnutrition",
    "SM-DP": "difficult pregnancy",
    "SM-CI": "chronic illness",
    "SM-CC": "critical medical condition",
    "SM-AD": "addiction",
    "SM-OT": "other medical condition",
    "FU-TR": "tracing required",
    "FU-FR": "family reunification required",
    "LP-ND": "no legal documentation",
    "LP-BN": "unmet basic needs",
    "LP-AN": "violence, abuse or neglect",
    "LP-DA": "detained or held in country of asylum",
    "LP-DO": "detained or held in country of origin",
    "LP-DT": "detained or held elsewhere",
    "LP-MD": "multiple displacements",
    "LP-RR": "at risk of refoulement",
    "LP-RD": "at risk of removal",
    "LP-LS": "lack of durable solutions prospects",
    "LP-CR": "criminal record",
    "LP-IH": "in hiding",
    "LP-AP": "alleged perpetrator",
    "LP-AF": "formerly associated with armed forces or groups",
    "LP-MM": "marginalised from society or community",
    "TR-PI": "psychological or physical impairment due to torture",
    "TR-HO": "forced to commit egregious acts",
    "TR-WV": "witness of violence to others",
    "SV-VA": "survivor of SGBV in country of asylum",
    "SV-VO": "survivor of SGBV in country of origin",
    "SV-GM": "female genital mutilation",
    "SV-HP": "harmful traditional practices",
    "SV-SS": "survival sex",
}

CATEGORY_NAMES: dict[SpecificNeed, str] = {
    need: need.name.lower().replace("_", " ").replace("sgbv", "SGBV") for need in SpecificNeed
}
NEED_CODES: frozenset[str] = frozenset({n.value for n in SpecificNeed} | set(SUB_CODES))

# The eight ad hoc codes of campledger's first version, and the standard code each reads
# as: events that recorded them are upcast on read (domain.person), and field apps not yet
# updated may still send them. Where the old code said less than a sub-code would, it
# maps to the category alone rather than invent a detail nobody recorded.
LEGACY_NEEDS: dict[str, str] = {
    "unaccompanied_child": SpecificNeed.UNACCOMPANIED_MINOR.value,
    "separated_child": SpecificNeed.SEPARATED_CHILD.value,
    "pregnant_or_lactating": SpecificNeed.WOMAN_AT_RISK.value,
    "serious_medical_condition": SpecificNeed.SERIOUS_MEDICAL_CONDITION.value,
    "disability": SpecificNeed.DISABILITY.value,
    "older_person_at_risk": SpecificNeed.OLDER_PERSON_AT_RISK.value,
    "survivor_of_violence": "LP-AN",
    "wounded": "SM-OT",
}


def category_of(code: str) -> SpecificNeed:
    """The category a known code belongs to (``SM-MN`` → ``SM``)."""
    return SpecificNeed(code.split("-", 1)[0])


def needs_within(code: str) -> tuple[str, ...]:
    """The codes a filter on ``code`` matches: a category matches its sub-codes too."""
    if code in SUB_CODES:
        return (code,)
    return (code, *(sub for sub in SUB_CODES if sub.startswith(code + "-")))


def with_categories(codes: tuple[str, ...] | list[str]) -> list[str]:
    """The codes and their categories, each once: counting a person under each category
    they have any need of, once, however many of its sub-codes they carry."""
    return sorted({*codes, *(code.split("-", 1)[0] for code in codes)})


def parse_need(value: str) -> str:
    """One code, as recorded: upper case, validated; a legacy code is translated."""
    if not isinstance(value, str):
        raise errors.InvalidInput("specific needs are codes (text)")
    raw = value.strip()
    if raw.lower() in LEGACY_NEEDS:
        return LEGACY_NEEDS[raw.lower()]
    code = raw.upper()
    if code in NEED_CODES:
        return code
    categories = ", ".join(n.value for n in SpecificNeed)
    # The value is not echoed: a name typed into the wrong field must not come back.
    raise errors.InvalidInput(
        "unknown specific need code: use UNHCR specific-needs codes, a category "
        f"({categories}) or one of its sub-codes such as SM-MN (see docs/specific-needs.md)"
    )


def parse_specific_needs(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validated codes, each once, sorted."""
    return tuple(sorted({parse_need(v) for v in values}))


def upcast_needs(values: list[str] | tuple[str, ...] | None) -> list[str] | None:
    """Stored needs in today's codes: legacy codes read as their standard code."""
    if values is None:
        return None
    return sorted({LEGACY_NEEDS.get(v, v) for v in values})
