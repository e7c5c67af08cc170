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
Everything is derived from the seed: the same seed gives the same people.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from campledger.domain.commands import MAX_BATCH
from campledger.domain.model.arrival import Arrival
from campledger.domain.model.site import site_id
from campledger.domain.model.transfer import MAX_MANIFEST
from campledger.domain.service.registry import Registry

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DemoSite:
    code: str
    name: str
    kind: str
    capacity: int
    admin1_pcode: str
    admin2_pcode: str
    latitude: float
    longitude: float


RECEPTION = DemoSite(
    "ADR-RC", "Adré reception point", "reception", 3_000, "TD09", "TD0901", 13.466, 22.197
)
SCREENING = DemoSite(
    "ADR-SC", "Adré screening centre", "screening", 1_500, "TD09", "TD0901", 13.472, 22.180
)
CAMPS = (
    DemoSite("OUR-CAMP", "Ourang camp", "camp", 6_000, "TD09", "TD0901", 13.419, 21.960),
    DemoSite("FAR-CAMP", "Farchana camp", "camp", 6_000, "TD09", "TD0903", 13.613, 21.551),
)
HOSPITAL = DemoSite(
    "ABE-HOSP", "Abéché regional hospital", "hospital", 150, "TD09", "TD0902", 13.829, 20.832
)
HOLDING = DemoSite(
    "ABE-HF", "Abéché holding facility", "holding", 200, "TD09", "TD0902", 13.835, 20.840
)
SITES = (RECEPTION, SCREENING, *CAMPS, HOSPITAL, HOLDING)

# Who orders holds at the screening centre (Adré is in Ouaddaï province).
HOLD_AUTHORITY = "Governor of Ouaddaï"
# Days until a hold is reviewed; the first hold of the demo got a short one and is overdue.
REVIEW_DAYS = 14

# Household sizes in a refugee influx: many mid-sized families, few alone.
_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
_SIZE_WEIGHTS = (10, 10, 14, 17, 17, 14, 10, 8)
_NATIONALITIES = (("SDN", 82), ("SSD", 12), ("ERI", 6))
_NAMES = {
    "SDN": (
        ("Amina", "Fatima", "Hawa", "Mariam", "Zahra", "Khadija", "Aisha", "Halima", "Nafisa"),
        ("Mohamed", "Adam", "Ibrahim", "Yousif", "Abdallah", "Osman", "Hamid", "Ismail"),
        ("Haroun", "Abakar", "Ishag", "Yahya", "Suleiman", "Bakhit", "Idriss", "Omer"),
    ),
    "SSD": (
        ("Nyandeng", "Achol", "Nyakuoth", "Abuk", "Ayen"),
        ("Deng", "Garang", "Majok", "Chol", "Lual"),
        ("Akol", "Machar", "Kuol", "Bol", "Nyok"),
    ),
    "ERI": (
        ("Helen", "Senait", "Tsega", "Yohana", "Mebrat"),
        ("Tesfay", "Yonas", "Dawit", "Amanuel", "Berhane"),
        ("Ghebre", "Tekle", "Haile", "Kidane", "Woldu"),
    ),
}

# Sudanese names as an Arabic-keyboard desk writes them. Three Sudanese households in ten
# are registered that way, with the Latin form beside it (as UNHCR registers both).
_ARABIC = {
    "Amina": "أمينة", "Fatima": "فاطمة", "Hawa": "حواء", "Mariam": "مريم", "Zahra": "زهراء",
    "Khadija": "خديجة", "Aisha": "عائشة", "Halima": "حليمة", "Nafisa": "نفيسة",
    "Mohamed": "محمد", "Adam": "آدم", "Ibrahim": "إبراهيم", "Yousif": "يوسف",
    "Abdallah": "عبد الله", "Osman": "عثمان", "Hamid": "حامد", "Ismail": "إسماعيل",
    "Haroun": "هارون", "Abakar": "أبكر", "Ishag": "إسحاق", "Yahya": "يحيى",
    "Suleiman": "سليمان", "Bakhit": "بخيت", "Idriss": "إدريس", "Omer": "عمر",
}  # fmt: skip
ARABIC_SCRIPT_SHARE = 3  # in 10 Sudanese households
# How another desk spells the same name: the demo registers a few people twice this way,
# unmerged, so the likely-duplicates list shows what it is for.
_OTHER_SPELLING = {
    "Mohamed": "Muhammad", "Osman": "Othman", "Yousif": "Yusuf", "Ishag": "Ishaq",
    "Haroun": "Harun", "Omer": "Omar", "Idriss": "Idris", "Suleiman": "Sulayman",
    "Abdallah": "Abdullah", "Ibrahim": "Brahim", "Fatima": "Fatuma", "Hawa": "Hawaa",
    "Khadija": "Khadidja", "Aisha": "Aicha", "Mariam": "Maryam", "Halima": "Halime",
}  # fmt: skip
RESPELLED = 6


def _in_arabic(nationality: str, household: int) -> bool:
    # Chosen by number, not by the generator, so that every other fact of the demo stays
    # what one seed makes it.
    return nationality == "SDN" and household % 10 < ARABIC_SCRIPT_SHARE


def _named(arrival: Arrival, in_arabic: bool) -> Arrival:
    """The arrival with its (Latin) name in Arabic script and the Latin form beside it."""
    if not in_arabic:
        return arrival
    return replace(
        arrival,
        given_name=_ARABIC[arrival.given_name],
        family_name=_ARABIC[arrival.family_name],
        given_name_latin=arrival.given_name,
        family_name_latin=arrival.family_name,
    )


@dataclass
class DemoSummary:
    loaded: bool
    persons: int = 0
    events_position: int = 0
    held_released: int = 0
    still_held: int = 0
    unaccounted_for: int = 0
    seconds: float = 0.0
    sites: tuple[DemoSite, ...] = SITES


@dataclass
class _Person:
    id: UUID
    household: str
    age: int
    sex: str
    needs: tuple[str, ...]
    estimated: bool
    site: str = RECEPTION.code
    held: bool = False
    arrival: Arrival | None = None


@dataclass
class _Loader:
    registry: Registry
    rng: random.Random
    today: date
    position: int = 0
    holds: int = 0
    persons: list[_Person] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    def track(self, position: int) -> None:
        self.position = max(self.position, position)

    def uuid(self) -> UUID:
        # From the seeded generator, so one seed always gives the same person ids.
        return UUID(int=self.rng.getrandbits(128), version=4)

    # --- people -------------------------------------------------------------------------

    def household(self, truck: int, number: int, size: int, arrived: datetime) -> list[Arrival]:
        rng = self.rng
        nationality = _pick(rng, _NATIONALITIES)
        female, male, family_names = _NAMES[nationality]
        family = rng.choice(family_names)
        household_id = f"HH-{truck:02d}-{number:04d}"
        members: list[tuple[str, str, int, tuple[str, ...]]] = []  # relationship, sex, age, needs
        if size == 1 and rng.random() < 0.3:
            members.append(
                (
                    "focal_point",
                    rng.choice(("female", "male")),
                    rng.randint(12, 17),
                    ("UM",),
                )
            )
        else:
            # Most households arriving are headed by women; many men stayed or were lost.
            sex = "female" if rng.random() < 0.75 else "male"
            age = rng.randint(19, 55)
            members.append(("focal_point", sex, age, ()))
            if size > 1 and rng.random() < 0.35:
                other = "male" if sex == "female" else "female"
                members.append(("spouse", other, max(18, age + rng.randint(-6, 8)), ()))
            if len(members) < size and rng.random() < 0.15:
                members.append(
                    ("grandparent", rng.choice(("female", "male")), rng.randint(60, 82), ())
                )
            while len(members) < size:
                # Children are the majority; the youngest most of all.
                age = min(17, int(rng.expovariate(1 / 6.5)))
                relationship = "child" if rng.random() < 0.93 else "other_relative"
                child_needs = ("SC",) if relationship == "other_relative" else ()
                members.append((relationship, rng.choice(("female", "male")), age, child_needs))
        arrivals = []
        for relationship, sex, age, base_needs in members:
            needs = set(base_needs) | _needs(rng, sex, age)
            number_ = next(self.numbers)
            person_id = self.uuid()
            born = None
            if rng.random() < 0.25:  # a document or a health card gives a date of birth
                born = self.today - timedelta(days=365 * age + rng.randint(0, 364))
            arrival = _named(
                Arrival(
                    registration_number=f"ADR-{truck:02d}-{number_:05d}",
                    given_name=rng.choice(female if sex == "female" else male),
                    family_name=family,
                    sex=sex,
                    nationality=nationality,
                    date_of_birth=born,
                    estimated_age=None if born else age,
                    household_id=household_id,
                    relationship=relationship,
                    biometric_reference=f"BIO-{person_id.hex[:16]}" if age >= 5 else None,
                    specific_needs=tuple(sorted(needs)),
                    occurred_at=arrived,
                    person_id=person_id,
                ),
                _in_arabic(nationality, number),
            )
            arrivals.append(arrival)
            self.persons.append(
                _Person(
                    person_id, household_id, age, sex, tuple(sorted(needs)), born is None,
                    arrival=arrival,
                )
            )  # fmt: skip
        return arrivals

    # --- commands -----------------------------------------------------------------------

    def register_truck(self, truck: int, size: int, arrived: datetime) -> list[_Person]:
        first = len(self.persons)
        arrivals: list[Arrival] = []
        number = 0
        while len(arrivals) < size:
            number += 1
            members = self.household(
                truck,
                number,
                self.rng.choices(_SIZES, _SIZE_WEIGHTS)[0],
                arrived + timedelta(seconds=20 * len(arrivals)),
            )
            arrivals.extend(members)
        for chunk in _chunks(arrivals, MAX_BATCH):
            result = self.registry.register_arrivals(
                site_code=RECEPTION.code, arrivals=chunk, actor="reception-officer-1"
            )
            self.track(result.position)
        return self.persons[first:]

    def transfer(
        self,
        persons: Sequence[_Person],
        origin: str,
        destination: str,
        planned: datetime,
        *,
        missing: int = 0,
    ) -> list[_Person]:
        """Plan, dispatch and receive; ``missing`` persons never check in (reconciled later)."""
        lost: list[_Person] = []
        for chunk in _chunks(list(persons), MAX_MANIFEST):
            manifest = [p.id for p in chunk]
            r = self.registry.plan_transfer(
                origin=origin,
                destination=destination,
                manifest=manifest,
                vehicle=f"TRUCK-{self.rng.randint(100, 999)}",
                order_reference=f"MOV-{planned:%m%d}-{destination}",
                occurred_at=planned,
                actor="site-manager-1",
            )
            transfer_id = UUID(r.result["transfer_id"])
            self.registry.dispatch_transfer(
                transfer_id=transfer_id,
                occurred_at=planned + timedelta(minutes=30),
                actor="site-manager-1",
            )
            arrived, gone = chunk[missing:], chunk[:missing]
            missing -= len(gone)
            r = self.registry.receive_transfer(
                transfer_id=transfer_id,
                site_code=destination,
                persons=[p.id for p in arrived],
                occurred_at=planned + timedelta(hours=4),
                actor="camp-registrar-1",
            )
            self.track(r.position)
            if gone:
                r = self.registry.reconcile_transfer(
                    transfer_id=transfer_id,
                    occurred_at=planned + timedelta(hours=8),
                    actor="site-manager-1",
                )
                self.track(r.position)
                lost.extend(gone)
            for p in arrived:
                p.site = destination
        return lost

    def screen(self, persons: Sequence[_Person], start: datetime) -> list[_Person]:
        """Screen a truckload at the screening centre; returns who was referred to hospital."""
        referred: list[_Person] = []
        registry = self.registry
        for index, p in enumerate(persons):
            when = start + timedelta(seconds=15 * index)
            registry.record_screening_step(
                person_id=p.id,
                step="identity",
                outcome="cleared",
                occurred_at=when,
                actor="screening-officer-1",
            )
            if p.needs:
                # Acute malnutrition, wounds and critical conditions go on to hospital.
                serious = {"SM-MN", "SM-OT", "SM-CC"} & set(p.needs)
                outcome = "referred" if serious else "cleared"
                registry.record_screening_step(
                    person_id=p.id,
                    step="medical",
                    outcome=outcome,
                    occurred_at=when + timedelta(hours=2),
                    reason="triage",
                    actor="medical-officer-1",
                )
                if serious and len(referred) < 3:
                    referred.append(p)
            if p.age >= 18 and p.sex == "male" and self.rng.random() < 0.04:
                held_at = when + timedelta(hours=3)
                review = REVIEW_DAYS if self.holds else 2
                self.holds += 1
                r = registry.record_screening_step(
                    person_id=p.id,
                    step="security",
                    outcome="held",
                    occurred_at=held_at,
                    reason="further interview needed",
                    actor="security-officer-1",
                    authority=HOLD_AUTHORITY,
                    order_reference=f"GOV-OUA-{held_at:%Y}-{self.holds:04d}",
                    review_date=(held_at + timedelta(days=review)).date(),
                )
                self.track(r.position)
                p.held = True
        return referred


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
    loader = _Loader(registry, random.Random(seed), now.date())

    for site in SITES:
        r = registry.open_site(
            code=site.code,
            name=site.name,
            kind=site.kind,
            capacity=site.capacity,
            admin1_pcode=site.admin1_pcode,
            admin2_pcode=site.admin2_pcode,
            latitude=site.latitude,
            longitude=site.longitude,
            occurred_at=start,
            actor="operations-lead",
        )
        loader.track(r.position)

    held: list[_Person] = []
    in_hospital: list[_Person] = []
    unaccounted: list[_Person] = []
    camp_of: dict[str, str] = {}  # household → the camp its members were sent to
    for truck in range(trucks):
        day = start + timedelta(days=truck)
        say(f"truck {truck + 1}/{trucks}: registering at {RECEPTION.code}")
        people = loader.register_truck(truck + 1, truck_size, day + timedelta(hours=6))
        loader.transfer(people, RECEPTION.code, SCREENING.code, day + timedelta(hours=10))
        say(f"truck {truck + 1}/{trucks}: screening at {SCREENING.code}")
        referred = loader.screen(people, day + timedelta(hours=14, minutes=30))
        referred = [p for p in referred if not p.held]
        loader.transfer(referred, SCREENING.code, HOSPITAL.code, day + timedelta(hours=21))
        in_hospital.extend(referred)
        held_now = [p for p in people if p.held]
        held.extend(held_now)
        # Held men stay held: next morning they go in custody to the holding facility.
        loader.transfer(held_now, SCREENING.code, HOLDING.code, day + timedelta(days=1, hours=7))
        # Next morning everyone cleared goes on to a camp; a held member's family goes
        # ahead without them: the household is separated until the release.
        camp = CAMPS[truck % len(CAMPS)].code
        onward = [p for p in people if p.site == SCREENING.code and not p.held]
        for p in people:
            camp_of.setdefault(p.household, camp)
        # The second truck's transfer arrives one adult short (a real pattern at night stops).
        missing = 1 if truck == 1 else 0
        if missing:
            adults = [p for p in onward if p.age >= 18]
            onward = [*adults[:1], *(p for p in onward if p is not adults[0])] if adults else onward
        unaccounted += loader.transfer(
            onward, SCREENING.code, camp, day + timedelta(days=1, hours=8), missing=missing
        )

    say("last day: releases, reunifications, departures, a correction and a merge")
    last = start + timedelta(days=trucks + 1)
    # The first hold (overdue for review) and the last two stay; the others end.
    still_held = [*held[:1], *held[-2:]] if len(held) > 3 else held[:1]
    released = [p for p in held if p not in still_held]
    for index, p in enumerate(released):
        r = registry.release_person(
            person_id=p.id,
            reason="interview completed",
            occurred_at=last + timedelta(hours=8, minutes=index),
            actor="security-officer-1",
            authority=HOLD_AUTHORITY,
            order_reference=f"GOV-OUA-{last:%Y}-R{index + 1:03d}",
        )
        loader.track(r.position)
        p.held = False
    # Reunification: the released, and all but one patient, join their household's camp.
    discharged = in_hospital[:-1]
    for camp_site in CAMPS:
        joining = [p for p in released if camp_of[p.household] == camp_site.code]
        loader.transfer(joining, HOLDING.code, camp_site.code, last + timedelta(hours=9))
        back = [p for p in discharged if camp_of[p.household] == camp_site.code]
        loader.transfer(back, HOSPITAL.code, camp_site.code, last + timedelta(hours=9, minutes=5))

    in_camp = [p for p in loader.persons if p.site in {c.code for c in CAMPS} and not p.held]
    for index, (p, reason) in enumerate(
        zip(
            in_camp[::97][:4],
            ("returned", "released_to_community", "returned", "resettled"),
            strict=False,
        )
    ):
        r = registry.record_departure(
            person_id=p.id,
            reason=reason,
            occurred_at=last + timedelta(hours=15, minutes=index),
            actor="camp-manager-1",
        )
        loader.track(r.position)
        p.site = "departed"

    added = 0  # registered at a camp desk after the trucks
    if in_camp:
        # After every other event of the last day, so no person's history goes backwards.
        late = last + timedelta(hours=16)
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
        # The same woman registered again at the camp desk; the biometric match finds her.
        survivor = next(p for p in in_camp if p.site != "departed" and p is not corrected)
        camp = survivor.site
        duplicate_id = loader.uuid()
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
        added = 1 + _register_again_respelled(loader, in_camp, late + timedelta(minutes=30))

    return DemoSummary(
        loaded=True,
        persons=len(loader.persons) + added,
        events_position=loader.position,
        held_released=len(released),
        still_held=len(still_held),
        unaccounted_for=len(unaccounted),
        seconds=(datetime.now(UTC) - started).total_seconds(),
    )


def _register_again_respelled(loader: _Loader, in_camp: list[_Person], at: datetime) -> int:
    """A few people registered again at a camp desk that spelled their names its own way
    (or wrote them in the other script), left unmerged for the duplicates list."""
    chosen = [
        p
        for p in in_camp
        if p.site != "departed"
        and p.arrival is not None
        and p.arrival.nationality == "SDN"
        and (p.arrival.given_name_latin or p.arrival.given_name) in _OTHER_SPELLING
    ][1 : 1 + RESPELLED]
    for index, person in enumerate(chosen):
        first = person.arrival
        assert first is not None
        if first.given_name_latin:  # written in Arabic first: this desk writes Latin
            family = first.family_name_latin or ""
            given, family = (
                _OTHER_SPELLING[first.given_name_latin],
                _OTHER_SPELLING.get(family, family),
            )
        else:  # written in Latin first: this desk writes Arabic, and no Latin form
            given, family = _ARABIC[first.given_name], _ARABIC[first.family_name]
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
                person_id=loader.uuid(),
            ),
            actor="camp-registrar-1",
        )
        loader.track(result.position)
    return len(chosen)


def _needs(rng: random.Random, sex: str, age: int) -> set[str]:
    """UNHCR specific-needs codes (domain.needs), at rates plausible after a siege."""
    needs: set[str] = set()
    # Acute malnutrition is among the commonest needs of people leaving a siege, the
    # youngest children most of all.
    if rng.random() < (0.15 if age < 5 else 0.03):
        needs.add("SM-MN")
    if sex == "female" and 16 <= age <= 45 and rng.random() < 0.08:
        needs.add("WR-LC")
    if age >= 60 and rng.random() < 0.4:
        needs.add("ER-NF")
    if sex == "female" and age >= 15 and rng.random() < 0.05:
        needs.add("SV-VO")
    for need, rate in (
        ("SM-CI", 0.02),
        ("DS-PM", 0.02),
        ("DS-BD", 0.01),
        ("SM-OT", 0.015),  # wounded on the way out
    ):
        if rng.random() < rate:
            needs.add(need)
    return needs


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
