"""A name in two forms: as the person writes it, and in Latin letters (as UNHCR records)."""

from __future__ import annotations

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from campledger.domain.history import person_history
from campledger.domain.model import errors
from campledger.domain.model.arrival import check_latin_name
from campledger.domain.model.person import Person
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, arrival, events_after, head, person


def test_an_arrival_records_the_name_in_its_script_and_in_latin(sites: Registry) -> None:
    before = head(sites)
    sites.register_arrival(
        site_code="RC-1",
        arrival=arrival(
            given_name="محمد",
            family_name="عثمان",
            given_name_latin=" Mohamed ",
            family_name_latin="Osman",
        ),
        actor=ACTOR,
    )

    [registered] = events_after(sites, before)
    assert isinstance(registered, Person.Registered)
    assert (registered.given_name, registered.family_name) == ("محمد", "عثمان")
    assert (registered.given_name_latin, registered.family_name_latin) == ("Mohamed", "Osman")
    found = person(sites, registered.originator_id)
    assert (found.given_name_latin, found.family_name_latin) == ("Mohamed", "Osman")


def test_without_a_latin_form_the_fields_are_empty(sites: Registry) -> None:
    before = head(sites)
    sites.register_arrival(site_code="RC-1", arrival=arrival(given_name_latin="  "), actor=ACTOR)
    [registered] = events_after(sites, before)
    assert (registered.given_name_latin, registered.family_name_latin) == (None, None)


@pytest.mark.parametrize(
    "latin",
    ["Kılıç", "Şükrü Öztürk", "Abd al-Rahman", "Sa'id", "N'Djamena", "Ḥusayn", "J. Ali"],
)
def test_latin_letters_of_every_alphabet_and_name_punctuation_are_accepted(latin: str) -> None:
    assert check_latin_name("given name in Latin", latin) == latin


@pytest.mark.parametrize("other", ["محمد", "Мухаммад", "Ali3", "Ali!", "ሰላም", "Ali\u200bOsman"])
def test_a_latin_form_with_any_other_character_is_refused(other: str) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        check_latin_name("given name in Latin", other)
    # The error names the rule, never the value (a name is personal data).
    assert other not in str(refused.value)


def test_an_arrival_stored_before_the_latin_form_existed_reads_without_it(
    sites: Registry,
) -> None:
    before = head(sites)
    sites.register_arrival(site_code="RC-1", arrival=arrival(), actor=ACTOR)
    [notification] = sites.recorder.select_notifications(start=before + 1, limit=1)
    state = orjson.loads(notification.state)
    state["class_version"] = 2
    del state["given_name_latin"], state["family_name_latin"]
    old = StoredEvent(
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=orjson.dumps(state),
    )

    read = sites.mapper.to_domain_event(old)

    assert isinstance(read, Person.Registered)
    assert (read.given_name_latin, read.family_name_latin) == (None, None)
    assert read.given_name == "Amina"


def test_the_latin_form_is_personal_data_in_a_history(sites: Registry) -> None:
    before = head(sites)
    sites.register_arrival(site_code="RC-1", arrival=arrival(given_name_latin="Amina"), actor=ACTOR)
    [registered] = events_after(sites, before)

    hidden = person_history(sites, registered.originator_id).entries[0].state
    shown = person_history(sites, registered.originator_id, include_personal=True)

    assert "given_name_latin" not in hidden
    assert shown.entries[0].state["given_name_latin"] == "Amina"
