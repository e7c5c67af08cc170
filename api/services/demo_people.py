"""Who arrives in the demo: households from Sudan, South Sudan and Eritrea, their names
as the desks write them, their ages and their specific needs, all drawn from the seed."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from campledger.domain.model.arrival import Arrival

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


def can_respell(arrival: Arrival) -> bool:
    """Whether another desk would spell this Sudanese person's given name its own way."""
    return (
        arrival.nationality == "SDN"
        and (arrival.given_name_latin or arrival.given_name) in _OTHER_SPELLING
    )


def respelled(arrival: Arrival) -> tuple[str, str]:
    """The given and family name as another desk writes them: in Latin, its own way, if
    the first desk wrote Arabic; in Arabic, with no Latin form, if it wrote Latin."""
    if arrival.given_name_latin:
        family = arrival.family_name_latin or ""
        return _OTHER_SPELLING[arrival.given_name_latin], _OTHER_SPELLING.get(family, family)
    return _ARABIC[arrival.given_name], _ARABIC[arrival.family_name]


@dataclass
class DemoPerson:
    id: UUID
    household: str
    age: int
    sex: str
    needs: tuple[str, ...]
    estimated: bool
    site: str
    held: bool = False
    arrival: Arrival | None = None


# One member of a household as drawn: relationship, sex, age and needs.
@dataclass(frozen=True, slots=True)
class _Member:
    relationship: str
    sex: str
    age: int
    needs: tuple[str, ...] = ()


@dataclass
class Population:
    """Everyone the demo registers, drawn from one seeded generator."""

    rng: random.Random
    today: date
    # Where everyone is first registered.
    reception: str
    persons: list[DemoPerson] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    def uuid(self) -> UUID:
        # From the seeded generator, so one seed always gives the same person ids.
        return UUID(int=self.rng.getrandbits(128), version=4)

    def truckload(self, truck: int, size: int, arrived: datetime) -> list[Arrival]:
        """Households filling one truck of about ``size`` people, registered 20 s apart."""
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
        return arrivals

    def household(self, truck: int, number: int, size: int, arrived: datetime) -> list[Arrival]:
        rng = self.rng
        nationality = _pick(rng, _NATIONALITIES)
        female, male, family_names = _NAMES[nationality]
        family = rng.choice(family_names)
        household_id = f"HH-{truck:02d}-{number:04d}"
        arrivals = []
        for member in self._members(size):
            needs = set(member.needs) | _needs(rng, member.sex, member.age)
            registration = next(self.numbers)
            person_id = self.uuid()
            born = None
            if rng.random() < 0.25:  # a document or a health card gives a date of birth
                born = self.today - timedelta(days=365 * member.age + rng.randint(0, 364))
            arrival = _named(
                Arrival(
                    registration_number=f"ADR-{truck:02d}-{registration:05d}",
                    given_name=rng.choice(female if member.sex == "female" else male),
                    family_name=family,
                    sex=member.sex,
                    nationality=nationality,
                    date_of_birth=born,
                    estimated_age=None if born else member.age,
                    household_id=household_id,
                    relationship=member.relationship,
                    biometric_reference=f"BIO-{person_id.hex[:16]}" if member.age >= 5 else None,
                    specific_needs=tuple(sorted(needs)),
                    occurred_at=arrived,
                    person_id=person_id,
                ),
                _in_arabic(nationality, number),
            )
            arrivals.append(arrival)
            self.persons.append(
                DemoPerson(
                    person_id,
                    household_id,
                    member.age,
                    member.sex,
                    tuple(sorted(needs)),
                    estimated=born is None,
                    site=self.reception,
                    arrival=arrival,
                )
            )
        return arrivals

    def _members(self, size: int) -> list[_Member]:
        rng = self.rng
        if size == 1 and rng.random() < 0.3:
            # A child alone: sex, then age, drawn in that order (the seed's people depend on it).
            sex = rng.choice(("female", "male"))
            return [_Member("focal_point", sex, rng.randint(12, 17), ("UM",))]
        # Most households arriving are headed by women; many men stayed or were lost.
        sex = "female" if rng.random() < 0.75 else "male"
        age = rng.randint(19, 55)
        members = [_Member("focal_point", sex, age)]
        if size > 1 and rng.random() < 0.35:
            other = "male" if sex == "female" else "female"
            members.append(_Member("spouse", other, max(18, age + rng.randint(-6, 8))))
        if len(members) < size and rng.random() < 0.15:
            members.append(
                _Member("grandparent", rng.choice(("female", "male")), rng.randint(60, 82))
            )
        while len(members) < size:
            # Children are the majority; the youngest most of all.
            age = min(17, int(rng.expovariate(1 / 6.5)))
            relationship = "child" if rng.random() < 0.93 else "other_relative"
            needs = ("SC",) if relationship == "other_relative" else ()
            members.append(_Member(relationship, rng.choice(("female", "male")), age, needs))
        return members


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
