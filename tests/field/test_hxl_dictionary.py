"""Every hashtag and attribute the HXL exports emit means what the HXL dictionary says.

hxl_dictionary.json holds the dictionary's entries for the hashtags and attributes we use,
copied from the HXL 1.1 dictionary (its source is cited in the file), and campledger's own
attributes with their meaning. A hashtag or attribute that is in neither fails here, as
does a dictionary attribute put on a hashtag the dictionary does not associate it with,
or a movement of people tagged with an attribute the dictionary gives to money.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import hxl
import pytest

from campledger.api.services.hxl import FLOW_ATTRIBUTES, Caseload, Column, Kind, columns

DICTIONARY: dict[str, Any] = json.loads(
    (Path(__file__).parent / "hxl_dictionary.json").read_text(encoding="utf-8")
)
OURS = {k: v for k, v in DICTIONARY["campledger_attributes"].items() if k.startswith("+")}
EVERY_EXPORT = [
    (kind, caseload, column)
    for kind in Kind
    for caseload in get_args(Caseload)
    for column in columns(kind, caseload)
]


def parsed(column: Column) -> tuple[str, list[str]]:
    """The hashtag and attributes, as libhxl reads them."""
    found = hxl.model.Column.parse(column.hashtag, header=column.header)
    assert found is not None and found.tag, column.hashtag
    return found.tag, ["+" + a for a in found.attributes]


@pytest.mark.parametrize(("kind", "caseload", "column"), EVERY_EXPORT)
def test_each_hashtag_and_attribute_is_the_dictionarys_or_documented_as_ours(
    kind: Kind, caseload: str, column: Column
) -> None:
    tag, attributes = parsed(column)
    assert tag in DICTIONARY["hashtags"], f"{tag} is not an HXL dictionary hashtag"
    for attribute in attributes:
        entry = DICTIONARY["attributes"].get(attribute)
        if entry is not None:
            # The dictionary's attribute, on a hashtag it is meant for.
            assert tag in entry["associated_hashtags"], (column.hashtag, attribute)
            assert attribute not in OURS, f"{attribute} would redefine the dictionary's"
        else:
            assert attribute in OURS, f"{attribute} ({column.hashtag}) is neither HXL's nor ours"
            assert tag in OURS[attribute]["hashtags"], (column.hashtag, attribute)


@pytest.mark.parametrize(("kind", "caseload", "column"), EVERY_EXPORT)
def test_counts_say_whose_and_of_what(kind: Kind, caseload: str, column: Column) -> None:
    """A count is #affected (a number in the dictionary), of the caseload, in people or in
    households; never #population, the general population of an area."""
    tag, attributes = parsed(column)
    assert tag != "#population"
    if column.key is None:
        return
    assert tag == "#affected"
    assert DICTIONARY["hashtags"][tag]["data_type"] == "number"
    assert [a for a in attributes if a in ("+refugees", "+idps")] == [f"+{caseload}"]
    assert len([a for a in attributes if a in ("+ind", "+hh")]) == 1
    assert "Refugee" in DICTIONARY["attributes"]["+refugees"]["description"]
    assert "Internally-displaced" in DICTIONARY["attributes"]["+idps"]["description"]
    assert DICTIONARY["attributes"]["+hh"]["description"] == "Households."
    assert DICTIONARY["attributes"]["+ind"]["description"] == "Number of individuals."


def test_movements_of_people_use_attributes_meaning_movement_of_people() -> None:
    funding = {k for k in DICTIONARY["funding_attributes"] if k.startswith("+")}
    assert {"+incoming", "+outgoing"} <= funding  # what the old export used, for money
    for caseload in get_args(Caseload):
        for column in columns(Kind.FLOWS, caseload):
            _, attributes = parsed(column)
            assert not funding & set(attributes), column.hashtag
            if column.key is not None:
                [movement] = [a for a in attributes if a in OURS]
                assert OURS[movement]["kind"] == "movement of people", column.hashtag
                assert movement == "+" + FLOW_ATTRIBUTES[column.key]


def test_dates_say_what_they_are() -> None:
    meanings = DICTIONARY["attributes"]
    expected = {Kind.OCCUPANCY: "+reported", Kind.NATIONALITIES: "+reported"}
    expected[Kind.FLOWS] = "+occurred"
    for kind, attribute in expected.items():
        [date] = [parsed(c) for c in columns(kind, "refugees") if c.hashtag.startswith("#date")]
        assert date == ("#date", [attribute])
        assert attribute in DICTIONARY["hashtags"]["#date"]["suggested_attributes"]
    assert meanings["+reported"]["description"].endswith("was reported.")
    assert meanings["+occurred"]["description"].endswith("took place.")


def test_exact_age_bands_sit_beside_the_dictionarys_loose_group() -> None:
    for column in columns(Kind.OCCUPANCY, "refugees"):
        _, attributes = parsed(column)
        bands = [a for a in attributes if OURS.get(a, {}).get("group")]
        for band in bands:
            # The dictionary names loose groups only: a tool that knows just those still
            # reads the group, and ours says the range.
            assert OURS[band]["group"] in attributes, column.hashtag
            assert OURS[band]["group"] in DICTIONARY["attributes"]


def test_the_excerpt_cites_its_source() -> None:
    source = DICTIONARY["source"]
    assert source["repository"] == "HXLStandard/gen-hxl-dict" and len(source["commit"]) == 40
    assert source["url"] == "https://hxlstandard.org/standard/dictionary"
