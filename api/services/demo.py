"""A realistic demo operation, loaded through the Registry's own commands.

An influx into eastern Chad: trucks of ~500 people reach the Adré reception point, one a
day. Each truckload is registered as households, moved to the screening centre the same
day and screened (identity for everyone, medical for people with specific needs, a few
held at security on the order of the governor), then moved on the next morning to one of
two camps. The seriously ill go to the hospital. The men held at security go the same
morning, in custody, to the holding facility at Abéché, and stay held there; one hold is
overdue for review. Families split by a hold or a hospital stay are reunified in their
camp on the last day (those whose hold ended, from the holding facility); one transfer
arrives a person short and is reconciled with that person unaccounted for; one age is
corrected and one double registration is merged.

Field times run from a few days ago to yesterday, each person's in increasing order, so
every rule on ``occurred_at`` holds and the as-of queries have history to look at.
Everything is derived from the seed: the same seed gives the same people
(``demo_people``), whom the field staff (``demo_loader``) register, move and screen.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from campledger.api.services.demo_loader import HOLD_AUTHORITY, Loader
from campledger.api.services.demo_people import DemoPerson, Population, can_respell, respelled
from campledger.domain.commands import OpenSite
from campledger.domain.model.arrival import Arrival
from campledger.domain.model.site import site_id
from campledger.domain.service.registry import Registry


def _site(
    code: str, name: str, kind: str, capacity: int, admin2: str, latitude: float, longitude: float
) -> OpenSite:
    return OpenSite(
        code=code,
        name=name,
        kind=kind,
        capacity=capacity,
        admin1_pcode="TD09",
        admin2_pcode=admin2,
        latitude=latitude,
        longitude=longitude,
    )


RECEPTION = _site("ADR-RC", "Adré reception point", "reception", 3_000, "TD0901", 13.466, 22.197)
SCREENING = _site("ADR-SC", "Adré screening centre", "screening", 1_500, "TD0901", 13.472, 22.180)
CAMPS = (
    _site("OUR-CAMP", "Ourang camp", "camp", 6_000, "TD0901", 13.419, 21.960),
    _site("FAR-CAMP", "Farchana camp", "camp", 6_000, "TD0903", 13.613, 21.551),
)
HOSPITAL = _site("ABE-HOSP", "Abéché regional hospital", "hospital", 150, "TD0902", 13.829, 20.832)
HOLDING = _site("ABE-HF", "Abéché holding facility", "holding", 200, "TD0902", 13.835, 20.840)
SITES = (RECEPTION, SCREENING, *CAMPS, HOSPITAL, HOLDING)

# People registered a second time by a camp desk that spells names its own way.
RESPELLED = 6


@dataclass
class DemoSummary:
    loaded: bool
    persons: int = 0
    events_position: int = 0
    held_released: int = 0
    still_held: int = 0
    unaccounted_for: int = 0
    seconds: float = 0.0
    sites: tuple[OpenSite, ...] = SITES


@dataclass
class _Influx:
    """Where the trucks left people, for the last day to settle."""

    held: list[DemoPerson] = field(default_factory=list)
    in_hospital: list[DemoPerson] = field(default_factory=list)
    unaccounted: list[DemoPerson] = field(default_factory=list)
    # household → the camp its members were sent to
    camp_of: dict[str, str] = field(default_factory=dict)


def load_demo(
    registry: Registry,
    *,
    trucks: int = 4,
    truck_size: int = 500,
    seed: int = 2024,
    now: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Load the demo operation, unless its reception point already exists (then load nothing)."""
    started = datetime.now(UTC)
    if site_id(RECEPTION.code) in registry.repository:
        return DemoSummary(loaded=False)
    now = now or registry.clock()
    say = on_step or (lambda _: None)
    # Midnight a few days back: one day per truck, one to move the last one on, one to settle.
    start = (now - timedelta(days=trucks + 2)).replace(hour=0, minute=0, second=0, microsecond=0)
    people = Population(random.Random(seed), now.date(), reception=RECEPTION.code)
    loader = Loader(registry, people)

    for site in SITES:
        r = registry.handle(replace(site, occurred_at=start), actor="operations-lead")
        loader.track(r.position)
    influx = _Influx()
    for truck in range(trucks):
        _bring_truck(loader, influx, truck, trucks, truck_size, start, say)

    say("last day: releases, reunifications, departures, a correction and a merge")
    last = start + timedelta(days=trucks + 1)
    held = influx.held
    # The first hold (overdue for review) and the last two stay; the others end.
    still_held = [*held[:1], *held[-2:]] if len(held) > 3 else held[:1]
    released = [p for p in held if p not in still_held]
    _release_and_reunify(loader, influx, released, last)
    in_camp = [p for p in people.persons if p.site in {c.code for c in CAMPS} and not p.held]
    _depart(loader, in_camp, last)
    added = _register_again(loader, in_camp, last + timedelta(hours=16)) if in_camp else 0

    return DemoSummary(
        loaded=True,
        persons=len(people.persons) + added,
        events_position=loader.position,
        held_released=len(released),
        still_held=len(still_held),
        unaccounted_for=len(influx.unaccounted),
        seconds=(datetime.now(UTC) - started).total_seconds(),
    )


def _bring_truck(
    loader: Loader,
    influx: _Influx,
    truck: int,
    trucks: int,
    truck_size: int,
    start: datetime,
    say: Callable[[str], None],
) -> None:
    """One truck's day: registered, moved to screening, screened; the next morning, on to
    a camp, to the hospital, or in custody to the holding facility."""
    day = start + timedelta(days=truck)
    say(f"truck {truck + 1}/{trucks}: registering at {RECEPTION.code}")
    people = loader.register_truck(truck + 1, truck_size, day + timedelta(hours=6))
    loader.transfer(people, RECEPTION.code, SCREENING.code, day + timedelta(hours=10))
    say(f"truck {truck + 1}/{trucks}: screening at {SCREENING.code}")
    referred = loader.screen(people, day + timedelta(hours=14, minutes=30))
    referred = [p for p in referred if not p.held]
    loader.transfer(referred, SCREENING.code, HOSPITAL.code, day + timedelta(hours=21))
    influx.in_hospital.extend(referred)
    held_now = [p for p in people if p.held]
    influx.held.extend(held_now)
    # Held men stay held: next morning they go in custody to the holding facility.
    loader.transfer(held_now, SCREENING.code, HOLDING.code, day + timedelta(days=1, hours=7))
    # Next morning everyone cleared goes on to a camp; a held member's family goes
    # ahead without them: the household is separated until the release.
    camp = CAMPS[truck % len(CAMPS)].code
    onward = [p for p in people if p.site == SCREENING.code and not p.held]
    for p in people:
        influx.camp_of.setdefault(p.household, camp)
    # The second truck's transfer arrives one adult short (a real pattern at night stops).
    missing = 1 if truck == 1 else 0
    if missing:
        adults = [p for p in onward if p.age >= 18]
        onward = [*adults[:1], *(p for p in onward if p is not adults[0])] if adults else onward
    influx.unaccounted += loader.transfer(
        onward, SCREENING.code, camp, day + timedelta(days=1, hours=8), missing=missing
    )


def _release_and_reunify(
    loader: Loader, influx: _Influx, released: list[DemoPerson], last: datetime
) -> None:
    """Holds end; the released, and all but one patient, join their household's camp."""
    for index, p in enumerate(released):
        r = loader.registry.release_person(
            person_id=p.id,
            reason="interview completed",
            occurred_at=last + timedelta(hours=8, minutes=index),
            actor="security-officer-1",
            authority=HOLD_AUTHORITY,
            order_reference=f"GOV-OUA-{last:%Y}-R{index + 1:03d}",
        )
        loader.track(r.position)
        p.held = False
    discharged = influx.in_hospital[:-1]
    for camp_site in CAMPS:
        joining = [p for p in released if influx.camp_of[p.household] == camp_site.code]
        loader.transfer(joining, HOLDING.code, camp_site.code, last + timedelta(hours=9))
        back = [p for p in discharged if influx.camp_of[p.household] == camp_site.code]
        loader.transfer(back, HOSPITAL.code, camp_site.code, last + timedelta(hours=9, minutes=5))


def _depart(loader: Loader, in_camp: list[DemoPerson], last: datetime) -> None:
    for index, (p, reason) in enumerate(
        zip(
            in_camp[::97][:4],
            ("returned", "released_to_community", "returned", "resettled"),
            strict=False,
        )
    ):
        r = loader.registry.record_departure(
            person_id=p.id,
            reason=reason,
            occurred_at=last + timedelta(hours=15, minutes=index),
            actor="camp-manager-1",
        )
        loader.track(r.position)
        p.site = "departed"


def _register_again(loader: Loader, in_camp: list[DemoPerson], late: datetime) -> int:
    """Registrations at a camp desk after every other event of the last day (so no
    person's history goes backwards): one age corrected, one woman registered again and
    merged on a biometric match, a few people registered again under other spellings.
    Returns how many people were registered."""
    registry = loader.registry
    corrected = next(p for p in in_camp if p.estimated and p.site != "departed")
    r = registry.correct_detail(
        person_id=corrected.id,
        field="estimated_age",
        value=corrected.age + 2,
        reason="age re-estimated at the camp's health post",
        occurred_at=late,
        actor="camp-registrar-1",
    )
    loader.track(r.position)
    survivor = next(p for p in in_camp if p.site != "departed" and p is not corrected)
    camp = survivor.site
    duplicate_id = loader.people.uuid()
    registry.register_arrival(
        site_code=camp,
        arrival=Arrival(
            registration_number=f"{camp}-DESK-00001",
            given_name="Hawa" if survivor.sex == "female" else "Adam",
            family_name="Abakar",
            sex=survivor.sex,
            nationality="SDN",
            estimated_age=survivor.age,
            occurred_at=late + timedelta(minutes=10),
            person_id=duplicate_id,
        ),
        actor="camp-registrar-1",
    )
    r = registry.merge_persons(
        duplicate_id=duplicate_id,
        survivor_id=survivor.id,
        reason="biometric match with an earlier registration",
        occurred_at=late + timedelta(minutes=20),
        actor="camp-registrar-1",
    )
    loader.track(r.position)
    return 1 + _register_respelled(loader, in_camp, late + timedelta(minutes=30))


def _register_respelled(loader: Loader, in_camp: list[DemoPerson], at: datetime) -> int:
    """A few people registered again at a camp desk that spelled their names its own way
    (or wrote them in the other script), left unmerged for the duplicates list."""
    chosen = [
        p
        for p in in_camp
        if p.site != "departed" and p.arrival is not None and can_respell(p.arrival)
    ][1 : 1 + RESPELLED]
    for index, person in enumerate(chosen):
        first = person.arrival
        assert first is not None
        given, family = respelled(first)
        result = loader.registry.register_arrival(
            site_code=person.site,
            arrival=Arrival(
                registration_number=f"{person.site}-DESK-{index + 2:05d}",
                given_name=given,
                family_name=family,
                sex=first.sex,
                nationality=first.nationality,
                estimated_age=person.age + (index % 2),
                occurred_at=at + timedelta(minutes=index),
                person_id=loader.people.uuid(),
            ),
            actor="camp-registrar-1",
        )
        loader.track(result.position)
    return len(chosen)
