"""Sites: opened, capacity changed, closed — and what a closed site refuses."""

from __future__ import annotations

import re
from copy import deepcopy
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from campledger.domain.model import errors
from campledger.domain.model.pcodes import parse_pcode, pcode_pattern
from campledger.domain.model.site import Site, site_id
from campledger.domain.service.registry import Registry
from tests.domain.support import (
    ACTOR,
    FIXED_NOW,
    arrival,
    events_after,
    head,
    names,
    open_site,
    plan,
    refused,
    register,
    site,
)

VALID: dict[str, Any] = {
    "code": "SCR-01",
    "name": "Screening centre",
    "kind": "screening",
    "capacity": 800,
}


def test_opening_a_site_records_opened_with_its_normalised_details(registry: Registry) -> None:
    result = registry.open_site(
        **VALID,
        admin1_pcode=" sd01 ",
        admin2_pcode="SD01001",
        latitude=15.5,
        longitude=32.5,
        actor=ACTOR,
    )

    [opened] = events_after(registry, 0)
    assert isinstance(opened, Site.Opened)
    assert (opened.code, opened.kind, opened.capacity) == ("SCR-01", "screening", 800)
    assert (opened.admin1_pcode, opened.admin2_pcode) == ("SD01", "SD01001")
    assert (opened.latitude, opened.longitude) == (15.5, 32.5)
    assert opened.actor == ACTOR
    assert opened.occurred_at == FIXED_NOW
    assert result.result == {"site_code": "SCR-01", "site_id": str(site_id("SCR-01"))}
    assert result.position == 1
    assert site(registry, "SCR-01").is_open


def test_site_id_is_derived_from_its_code(registry: Registry) -> None:
    registry.open_site(**VALID, actor=ACTOR)
    assert site(registry, "SCR-01").id == site_id("SCR-01")
    assert site_id("SCR-01") != site_id("SCR-02")


def test_blank_pcodes_are_stored_as_none(registry: Registry) -> None:
    registry.open_site(**VALID, admin1_pcode="  ", actor=ACTOR)
    assert site(registry, "SCR-01").admin1_pcode is None


def test_a_second_site_with_the_same_code_is_refused(registry: Registry) -> None:
    registry.open_site(**VALID, actor=ACTOR)
    with refused(registry, errors.SiteAlreadyExists):
        registry.open_site(**{**VALID, "name": "Other"}, actor=ACTOR)


@pytest.mark.parametrize(
    "override",
    [
        {"code": "bad code"},
        {"code": ""},
        {"code": "X" * 41},
        {"name": "  "},
        {"kind": "hotel"},
        {"capacity": -1},
        {"capacity": 10_000_001},
        {"capacity": True},
        {"capacity": 1.5},
        {"latitude": 90.5},
        {"longitude": -180.1},
        {"admin1_pcode": "1234"},
        {"admin2_pcode": "S"},
        # Neither QQ nor QQQ is an ISO 3166 country code.
        {"admin1_pcode": "QQ01"},
        {"admin2_pcode": "QQQ0101"},
        {"admin1_pcode": "SD01-2"},
        {"admin1_pcode": "SD" + "0" * 19},
    ],
    ids=lambda o: f"{next(iter(o))}={next(iter(o.values()))!r}",
)
def test_a_site_with_invalid_details_is_refused(
    registry: Registry, override: dict[str, Any]
) -> None:
    with refused(registry, errors.InvalidInput) as info:
        registry.open_site(**{**VALID, **override}, actor=ACTOR)
    assert info.value.kind == errors.ErrorKind.INVALID


def test_capacity_boundaries_are_accepted(registry: Registry) -> None:
    registry.open_site(**{**VALID, "capacity": 0}, actor=ACTOR)
    registry.change_site_capacity(code="SCR-01", capacity=10_000_000, actor=ACTOR)
    assert site(registry, "SCR-01").capacity == 10_000_000


def test_changing_capacity_records_capacity_changed(registry: Registry) -> None:
    open_site(registry, "RC-1")
    before = head(registry)

    result = registry.change_site_capacity(
        code="RC-1", capacity=1200, reason="new tents", actor=ACTOR
    )

    [changed] = events_after(registry, before)
    assert isinstance(changed, Site.CapacityChanged)
    assert (changed.capacity, changed.reason, changed.actor) == (1200, "new tents", ACTOR)
    assert result.result == {"site_code": "RC-1", "capacity": 1200}
    assert site(registry, "RC-1").capacity == 1200


def test_changing_capacity_to_an_invalid_value_is_refused(registry: Registry) -> None:
    open_site(registry, "RC-1")
    with refused(registry, errors.InvalidInput):
        registry.change_site_capacity(code="RC-1", capacity=-5, actor=ACTOR)


def test_changing_capacity_of_an_unknown_site_is_refused(registry: Registry) -> None:
    with refused(registry, errors.SiteNotFound) as info:
        registry.change_site_capacity(code="NOPE", capacity=5, actor=ACTOR)
    assert info.value.kind == errors.ErrorKind.NOT_FOUND


def test_closing_a_site_records_closed(registry: Registry) -> None:
    open_site(registry, "RC-1")
    before = head(registry)

    registry.close_site(code="RC-1", reason="flooded", actor=ACTOR)

    assert names(events_after(registry, before)) == ["Site.Closed"]
    assert not site(registry, "RC-1").is_open


def test_closing_an_unknown_site_is_refused(registry: Registry) -> None:
    with refused(registry, errors.SiteNotFound):
        registry.close_site(code="NOPE", actor=ACTOR)


def test_a_closed_site_cannot_be_closed_again(registry: Registry) -> None:
    open_site(registry, "RC-1")
    registry.close_site(code="RC-1", actor=ACTOR)
    with refused(registry, errors.SiteClosed):
        registry.close_site(code="RC-1", actor=ACTOR)


def test_a_closed_site_cannot_change_capacity(registry: Registry) -> None:
    open_site(registry, "RC-1")
    registry.close_site(code="RC-1", actor=ACTOR)
    with refused(registry, errors.SiteClosed):
        registry.change_site_capacity(code="RC-1", capacity=10, actor=ACTOR)


def test_a_closed_site_cannot_be_reopened_by_opening_its_code_again(registry: Registry) -> None:
    open_site(registry, "RC-1")
    registry.close_site(code="RC-1", actor=ACTOR)
    with refused(registry, errors.SiteAlreadyExists):
        open_site(registry, "RC-1")


def test_a_closed_site_receives_no_arrivals(registry: Registry) -> None:
    open_site(registry, "RC-1")
    registry.close_site(code="RC-1", actor=ACTOR)
    with refused(registry, errors.SiteClosed):
        registry.register_arrival(site_code="RC-1", arrival=arrival(), actor=ACTOR)
    with refused(registry, errors.SiteClosed):
        registry.register_arrivals(site_code="RC-1", arrivals=[arrival()], actor=ACTOR)


def test_no_transfer_can_be_planned_to_or_from_a_closed_site(sites: Registry) -> None:
    person_id = register(sites)
    sites.close_site(code="CAMP-1", actor=ACTOR)
    with refused(sites, errors.SiteClosed):
        plan(sites, [person_id], destination="CAMP-1")
    sites.close_site(code="RC-1", actor=ACTOR)
    with refused(sites, errors.SiteClosed):
        plan(sites, [person_id], origin="RC-1", destination="RC-2")


def test_a_site_event_may_not_predate_the_sites_last_event(registry: Registry) -> None:
    registry.open_site(**VALID, occurred_at=FIXED_NOW - timedelta(hours=1), actor=ACTOR)
    with refused(registry, errors.OccurredBeforeLastEvent):
        registry.change_site_capacity(
            code="SCR-01", capacity=5, occurred_at=FIXED_NOW - timedelta(hours=2), actor=ACTOR
        )
    with refused(registry, errors.OccurredBeforeLastEvent):
        registry.close_site(code="SCR-01", occurred_at=FIXED_NOW - timedelta(hours=2), actor=ACTOR)


def test_a_site_cannot_be_opened_in_the_future(registry: Registry) -> None:
    with refused(registry, errors.OccurredInFuture):
        registry.open_site(**VALID, occurred_at=FIXED_NOW + timedelta(minutes=6), actor=ACTOR)


def test_every_command_needs_an_actor(registry: Registry) -> None:
    with refused(registry, errors.InvalidInput):
        registry.open_site(**VALID, actor="")


@pytest.mark.parametrize(
    ("admin1", "admin2"),
    [("SD01", "SD0201"), ("SD01", "TD0101"), ("SD01", "SD01"), ("SD0101", "SD01")],
)
def test_an_admin2_pcode_not_under_its_admin1_is_refused_and_nothing_recorded(
    registry: Registry, admin1: str, admin2: str
) -> None:
    with refused(registry, errors.Admin2OutsideAdmin1) as info:
        registry.open_site(**VALID, admin1_pcode=admin1, admin2_pcode=admin2, actor=ACTOR)
    assert info.value.details == {"field": "admin2_pcode"}
    assert events_after(registry, 0) == []


@pytest.mark.parametrize(
    ("admin1", "admin2"),
    [
        ("sd01", "sd01001"),
        ("UA05", "UA0502"),
        ("UKR01", "UKR0101"),
        ("XK01", None),
        (None, "TD0901"),
    ],
)
def test_pcodes_with_an_iso_country_prefix_are_accepted(
    registry: Registry, admin1: str | None, admin2: str | None
) -> None:
    registry.open_site(**VALID, admin1_pcode=admin1, admin2_pcode=admin2, actor=ACTOR)
    opened = site(registry, "SCR-01")
    assert (opened.admin1_pcode, opened.admin2_pcode) == (
        admin1 and admin1.upper(),
        admin2 and admin2.upper(),
    )


def test_an_unknown_country_prefix_names_its_field(registry: Registry) -> None:
    with refused(registry, errors.InvalidPcode) as info:
        registry.open_site(**VALID, admin1_pcode="SD01", admin2_pcode="ZZ0101", actor=ACTOR)
    assert info.value.message.startswith("admin2 p-code must start with an ISO 3166-1")
    assert info.value.details == {"field": "admin2_pcode"}


def test_the_published_pcode_pattern_says_what_the_domain_accepts() -> None:
    pattern = re.compile(pcode_pattern())
    for good in ("", "  ", "SD01", "sd01001", "UKR0101", " Td09 "):
        assert pattern.match(good) and parse_pcode("admin1", good) == (good.strip().upper() or None)
    for bad in ("QQ01", "SD", "1234", "SD01-2"):
        assert not pattern.match(bad)
        with pytest.raises(errors.InvalidPcode):
            parse_pcode("admin1", bad)


def test_a_copied_site_shares_nothing_that_a_command_could_change(registry: Registry) -> None:
    # A unit of work hands each command its own copy of a site (see Site.__deepcopy__):
    # the copy is made of the site's attributes, so each of them must be a value that
    # cannot change in place, or the list of events not yet saved, copied.
    registry.open_site(**VALID, admin1_pcode="SD01", latitude=15.5, longitude=32.5, actor=ACTOR)
    registry.change_site_capacity(code="SCR-01", capacity=900, reason="tents", actor=ACTOR)
    stored = site(registry, "SCR-01")
    immutable = (str, int, float, bool, type(None), UUID, datetime)
    assert all(
        isinstance(value, immutable) or name == "_pending_events"
        for name, value in vars(stored).items()
    ), {name: type(value) for name, value in vars(stored).items()}

    copied = deepcopy(stored)
    copied.close(reason="flooded", actor=ACTOR, occurred_at=FIXED_NOW, now=FIXED_NOW)

    assert stored.is_open and not stored.collect_events()
    assert not copied.is_open and names(copied.collect_events()) == ["Site.Closed"]
