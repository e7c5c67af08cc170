"""Dates of birth as they are known: a full date, or the year alone (recorded as such,
never turned into a 1 January birthday), and the ages reckoned from each."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.values import (
    DAY_FIRST_DATES,
    age_band,
    age_from_birth,
    age_on,
    date_of_birth_text,
    parse_date_of_birth,
)
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, arrival, events_after, head, person, refused, today


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        ("1985-06-30", "YYYY-MM-DD", (date(1985, 6, 30), "day")),
        (" 1985 ", "YYYY-MM-DD", (date(1985, 1, 1), "year")),
        ("30/06/1985", DAY_FIRST_DATES, (date(1985, 6, 30), "day")),
        ("3/4/2001", DAY_FIRST_DATES, (date(2001, 4, 3), "day")),
        ("1985", DAY_FIRST_DATES, (date(1985, 1, 1), "year")),
    ],
)
def test_a_date_of_birth_is_read_in_the_format_given_or_as_a_year(
    text: str, date_format: str, expected: tuple[date, str]
) -> None:
    assert parse_date_of_birth(text, date_format) == expected


@pytest.mark.parametrize(
    ("text", "date_format"),
    [
        ("03/04/2001", "YYYY-MM-DD"),  # day-first is never guessed
        ("1985-06-30", DAY_FIRST_DATES),  # a file keeps the one format it says it uses
        ("31/02/2001", DAY_FIRST_DATES),
        ("2001-13-01", "YYYY-MM-DD"),
        ("85", "YYYY-MM-DD"),
        ("0000", "YYYY-MM-DD"),
        ("June 1985", "YYYY-MM-DD"),
    ],
)
def test_a_date_of_birth_in_another_form_is_refused(text: str, date_format: str) -> None:
    with pytest.raises(errors.InvalidAge):
        parse_date_of_birth(text, date_format)


def test_a_year_of_birth_gives_the_true_age_or_one_year_off_and_counts_from_july() -> None:
    assert age_from_birth(date(1985, 1, 1), "year", date(2025, 6, 30)) == 39
    assert age_from_birth(date(1985, 1, 1), "year", date(2025, 7, 1)) == 40
    assert age_from_birth(date(2025, 1, 1), "year", date(2025, 3, 1)) == 0
    for asked in (date(2025, 1, 1), date(2025, 7, 1), date(2025, 12, 31)):
        reckoned = age_from_birth(date(1985, 1, 1), "year", asked)
        for born in (date(1985, 1, 1), date(1985, 7, 1), date(1985, 12, 31)):
            assert abs(reckoned - age_on(born, asked)) <= 1
    # A full date counts from the day itself.
    assert age_from_birth(date(2007, 8, 1), "day", date(2025, 7, 31)) == 17
    assert age_band(age_from_birth(date(2007, 1, 1), "year", date(2025, 7, 1))) == "18-59"


def test_a_date_of_birth_is_shown_as_it_is_known() -> None:
    assert date_of_birth_text(date(1985, 1, 1), "year") == "1985"
    assert date_of_birth_text(date(1985, 1, 1), "day") == "1985-01-01"
    assert date_of_birth_text(None, None) is None


def test_a_year_of_birth_is_recorded_as_a_year(sites: Registry) -> None:
    before = head(sites)
    sites.register_arrival(
        site_code="RC-1",
        arrival=arrival(
            date_of_birth=date(1985, 6, 30), date_of_birth_precision="year", estimated_age=None
        ),
        actor=ACTOR,
    )
    [registered] = events_after(sites, before)
    assert (registered.date_of_birth, registered.date_of_birth_precision) == (
        date(1985, 1, 1),
        "year",
    )
    found = person(sites, registered.originator_id)
    assert (found.date_of_birth, found.date_of_birth_precision) == (date(1985, 1, 1), "year")


def test_a_full_date_is_a_day_and_no_date_no_precision(sites: Registry) -> None:
    before = head(sites)
    sites.register_arrival(
        site_code="RC-1", arrival=arrival(date_of_birth=date(1990, 2, 3)), actor=ACTOR
    )
    sites.register_arrival(site_code="RC-1", arrival=arrival(), actor=ACTOR)
    first, second = events_after(sites, before)
    assert first.date_of_birth_precision == "day"
    assert second.date_of_birth_precision is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"date_of_birth": date(today().year + 1, 1, 1), "date_of_birth_precision": "year"},
        {"date_of_birth": date(1850, 1, 1), "date_of_birth_precision": "year"},
        {"date_of_birth": date(1985, 1, 1), "date_of_birth_precision": "month"},
    ],
)
def test_an_impossible_year_of_birth_is_refused_and_nothing_recorded(
    sites: Registry, overrides: dict[str, object]
) -> None:
    before = head(sites)
    with refused(sites, errors.InvalidAge):
        sites.register_arrival(site_code="RC-1", arrival=arrival(**overrides), actor=ACTOR)
    assert head(sites) == before


def test_the_year_of_birth_this_year_is_accepted(sites: Registry) -> None:
    sites.register_arrival(
        site_code="RC-1",
        arrival=arrival(date_of_birth=date(today().year, 1, 1), date_of_birth_precision="year"),
        actor=ACTOR,
    )


def test_correcting_to_a_full_date_makes_it_a_day(sites: Registry) -> None:
    sites.register_arrival(
        site_code="RC-1",
        arrival=arrival(date_of_birth=date(1985, 1, 1), date_of_birth_precision="year"),
        actor=ACTOR,
    )
    person_id = events_after(sites, head(sites) - 1)[0].originator_id
    sites.correct_detail(
        person_id=person_id, field="date_of_birth", value="1985-03-09", reason="card", actor=ACTOR
    )
    found = person(sites, person_id)
    assert (found.date_of_birth, found.date_of_birth_precision) == (date(1985, 3, 9), "day")


def test_a_registration_stored_before_precision_existed_reads_as_a_day(sites: Registry) -> None:
    # The log is a published contract: a v3 registration (no precision) is upcast on read.
    before = head(sites)
    sites.register_arrival(
        site_code="RC-1", arrival=arrival(date_of_birth=date(1990, 2, 3)), actor=ACTOR
    )
    sites.register_arrival(site_code="RC-1", arrival=arrival(), actor=ACTOR)
    read = []
    for notification in sites.recorder.select_notifications(start=before + 1, limit=2):
        state = orjson.loads(notification.state)
        assert state.pop("class_version") == 4
        del state["date_of_birth_precision"]
        state["class_version"] = 3
        old = StoredEvent(
            originator_id=notification.originator_id,
            originator_version=notification.originator_version,
            topic=notification.topic,
            state=orjson.dumps(state),
        )
        read.append(sites.mapper.to_domain_event(old))
    assert all(isinstance(event, Person.Registered) for event in read)
    assert [e.date_of_birth_precision for e in read] == ["day", None]
    assert read[0].date_of_birth == date(1990, 2, 3)
