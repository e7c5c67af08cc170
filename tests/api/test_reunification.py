"""A separated household's home site, and who would travel there: worked out from the
member rows alone, with no database."""

from __future__ import annotations

from typing import Any

from campledger.api.services.reunification import home_site, reunion


def member(site: str | None, status: str = "present", number: str = "R-1") -> dict[str, Any]:
    return {"registration_number": number, "status": status, "site_code": site}


def test_the_home_site_is_where_most_members_present_at_a_site_are() -> None:
    members = [member("HOSP"), member("CAMP"), member("CAMP"), member(None, "in_transit")]
    assert home_site(members) == "CAMP"


def test_on_a_tie_the_home_site_is_the_first_code_in_order() -> None:
    assert home_site([member("FAR-CAMP"), member("ABE-HOSP")]) == "ABE-HOSP"
    assert home_site([member("ABE-HOSP"), member("FAR-CAMP")]) == "ABE-HOSP"


def test_held_and_departed_members_do_not_make_a_home() -> None:
    # Two held at the holding facility and one who left from there: the family's home is
    # still the camp where its one free member is.
    members = [
        member("HOLD", "held"),
        member("HOLD", "held"),
        member("HOLD", "departed"),
        member("CAMP"),
    ]
    assert home_site(members) == "CAMP"


def test_a_household_with_nobody_present_at_a_site_has_no_home_and_nobody_to_move() -> None:
    members = [member(None, "in_transit"), member("HOLD", "held"), member(None, "unaccounted")]
    assert home_site(members) is None
    found = reunion(members)
    assert found.home is None and not found.free and not found.held


def test_the_free_members_away_from_home_travel_and_the_held_ones_wait() -> None:
    away = member("HOSP", number="R-2")
    held = member("HOLD", "held", number="R-3")
    members = [
        member("CAMP", number="R-1"),
        member("CAMP", number="R-4"),
        away,
        held,
        member("HOSP", "departed", number="R-5"),
        member(None, "merged", number="R-6"),
        member(None, "in_transit", number="R-7"),
    ]
    found = reunion(members)
    assert found.home == "CAMP"
    assert list(found.free) == [away]
    assert list(found.held) == [held]
