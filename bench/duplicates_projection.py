"""What the likely-duplicates read model costs the projector, and what blocking saves.

Registers a synthetic caseload (default 100,000 people in batches of 1,000; Sudanese and
Chadian names drawn with a skew, in their usual transliteration variants: a given name,
the father's and, in seven records of ten, the grandfather's; households of one to eight;
2% registered again at another desk with other spellings and an estimated age; with
``--arabic 0.3``, three registrations in ten written in Arabic script, as a desk that
registers in Arabic would, so some people registered twice are written once in each
script), then projects the whole log from position 0, in the same run:

- every other read model (the baseline),
- the duplicates model alone,
- every read model (the catalog as deployed).

Prints events/s for each and the ratio to the baseline; then what blocking did: pairs in
the blocks' windows, pairs scored after RapidFuzz's prefilter, pairs proposed, against
all N·(N−1)/2 pairs, and the time all pairs would take at the measured cost per pair;
and the largest block (sex, sound key, birth year) and window (birth years ±2).

    python -m bench.duplicates_projection [--people 100000] [--batch 1000] [--seed 7]
                                          [--arabic 0.0]
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date

import psycopg
import typer
from psycopg import sql
from rich.console import Console
from rich.table import Table

from bench.support import fresh_database, library_env_for
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry
from campledger.projections.catalog import READ_MODELS
from campledger.projections.duplicates import Duplicates
from campledger.projections.engine import Projector
from campledger.projections.matching import Profile, assess
from campledger.projections.readmodel import ReadModel

console = Console()
THIS_YEAR = date.today().year - 1  # whole past years: no date of birth in the future

# Canonical name: its spellings as registrars write them. Order is frequency (Zipf-like).
MALE = [
    ("Mohammed", "Muhammad", "Mohamed", "Mahamat", "Mohamad"), ("Ahmed", "Ahmad", "Ahmat"),
    ("Adam", "Adum"), ("Abdallah", "Abdullah", "Abdalla"), ("Ibrahim", "Ebrahim", "Brahim"),
    ("Ali",), ("Hassan", "Hasan"), ("Hussein", "Husayn", "Hussain", "Hossein"),
    ("Osman", "Othman", "Ousmane"), ("Yousif", "Yusuf", "Youssouf", "Yousef"), ("Ismail",),
    ("Abdelrahman", "Abd al-Rahman", "Abdel Rahman", "Abdulrahman"), ("Omar", "Umar"),
    ("Khalid", "Khaled"), ("Salih", "Saleh"), ("Idris", "Idriss"), ("Musa", "Moussa"),
    ("Issa", "Isa"), ("Bakhit",), ("Jamal", "Gamal"), ("Mahmoud", "Mahmud"), ("Yahya",),
    ("Suleiman", "Sulayman", "Souleymane"), ("Abakar", "Abubakar", "Abu Bakr"),
    ("Haroun", "Harun"), ("Hamid",), ("Ishaq", "Ishag"), ("Mustafa", "Moustafa"),
    ("Tahir", "Taher"), ("Zakaria", "Zakariya"), ("Djibrine", "Jibril"), ("Nour",),
    ("Abdelkarim", "Abd al-Karim", "Abdoulkarim"), ("Tijani", "Tidjani"), ("Hamza",),
    ("Bashir", "Al-Bashir"), ("Siddig", "Siddiq"), ("Awad",), ("Babiker", "Babikir"),
]  # fmt: skip
FEMALE = [
    ("Fatima", "Fatimah", "Fatouma"), ("Amina", "Aminah", "Amna"), ("Aisha", "Aicha", "Aysha"),
    ("Khadija", "Khadidja", "Khadiga"), ("Hawa", "Hawaa"), ("Mariam", "Maryam", "Mariama"),
    ("Zainab", "Zaynab", "Zeinab"), ("Halima", "Halimah"), ("Asha",), ("Hadiza", "Hadija"),
    ("Safia", "Safiya"), ("Rahma",), ("Salma",), ("Nafisa", "Nafissa"), ("Zahra", "Zahara"),
    ("Kaltouma", "Kaltoum"), ("Achta",), ("Mahassin",), ("Fadila", "Fadhila"), ("Habiba",),
    ("Sumaya", "Soumaya"), ("Zara",), ("Mona", "Muna"), ("Samira",), ("Nadia",),
    ("Sadia", "Saadia"), ("Hafsa",), ("Rukiya", "Roukaya"), ("Amal",), ("Buthaina", "Bouthayna"),
]  # fmt: skip


# The same names in Arabic script, with the variants clerks write (hamza or not, teh
# marbuta or heh, the article or not, abd glued or not).
ARABIC = {
    "Mohammed": ("محمد", "مُحمّد"), "Ahmed": ("أحمد", "احمد"), "Adam": ("آدم", "ادم"),
    "Abdallah": ("عبد الله", "عبدالله"), "Ibrahim": ("إبراهيم", "ابراهيم"), "Ali": ("علي",),
    "Hassan": ("حسن",), "Hussein": ("حسين",), "Osman": ("عثمان",), "Yousif": ("يوسف",),
    "Ismail": ("إسماعيل", "اسماعيل"), "Abdelrahman": ("عبد الرحمن", "عبدالرحمن"),
    "Omar": ("عمر",), "Khalid": ("خالد",), "Salih": ("صالح",), "Idris": ("إدريس", "ادريس"),
    "Musa": ("موسى", "موسي"), "Issa": ("عيسى", "عيسي"), "Bakhit": ("بخيت",),
    "Jamal": ("جمال",), "Mahmoud": ("محمود",), "Yahya": ("يحيى", "يحيي"),
    "Suleiman": ("سليمان",), "Abakar": ("أبكر", "أبو بكر"), "Haroun": ("هارون",),
    "Hamid": ("حامد",), "Ishaq": ("إسحاق", "اسحق"), "Mustafa": ("مصطفى",),
    "Tahir": ("الطاهر", "طاهر"), "Zakaria": ("زكريا",), "Djibrine": ("جبرين", "جبريل"),
    "Nour": ("نور",), "Abdelkarim": ("عبد الكريم", "عبدالكريم"), "Tijani": ("التجاني",),
    "Hamza": ("حمزة", "حمزه"), "Bashir": ("البشير", "بشير"), "Siddig": ("الصديق", "صديق"),
    "Awad": ("عوض",), "Babiker": ("بابكر",),
    "Fatima": ("فاطمة", "فاطمه"), "Amina": ("أمينة", "امينه"), "Aisha": ("عائشة", "عايشة"),
    "Khadija": ("خديجة", "خديجه"), "Hawa": ("حواء", "حوا"), "Mariam": ("مريم",),
    "Zainab": ("زينب",), "Halima": ("حليمة", "حليمه"), "Asha": ("عشة",), "Hadiza": ("حديزة",),
    "Safia": ("صفية",), "Rahma": ("رحمة",), "Salma": ("سلمى",), "Nafisa": ("نفيسة",),
    "Zahra": ("زهرة", "زهراء"), "Kaltouma": ("كلتومة", "كلتوم"), "Achta": ("اشتا",),
    "Mahassin": ("محاسن",), "Fadila": ("فضيلة",), "Habiba": ("حبيبة",), "Sumaya": ("سمية",),
    "Zara": ("زارا",), "Mona": ("منى",), "Samira": ("سميرة",), "Nadia": ("نادية",),
    "Sadia": ("سعدية",), "Hafsa": ("حفصة",), "Rukiya": ("رقية",), "Amal": ("أمل",),
    "Buthaina": ("بثينة",),
}  # fmt: skip


def _weights(n: int) -> list[float]:
    return [1 / (rank + 1) ** 0.9 for rank in range(n)]


@dataclass
class Caseload:
    arrivals: list[Arrival]
    # Registration numbers of each person registered twice: (first, second).
    twice: list[tuple[str, str]]


@dataclass(frozen=True)
class Someone:
    """One person as the synthetic world knows them: canonical names, not spellings."""

    given: tuple[str, ...]
    father: tuple[str, ...]
    grandfather: tuple[str, ...]
    sex: str
    born: int
    nationality: str


def caseload(people: int, seed: int, arabic: float = 0.0) -> Caseload:
    """Households of one to eight sharing the father's and grandfather's names (a desk
    writes the grandfather's in seven cases of ten); 2% registered a second time at another
    desk, with other spellings, an estimated age off by up to a year, and no household.
    A share ``arabic`` of registrations is written in Arabic script."""
    rng = random.Random(seed)
    # Scripts drawn apart: with arabic=0 the caseload is the Latin-only one, name for name.
    scripts = random.Random(seed + 1)
    male_w, female_w = _weights(len(MALE)), _weights(len(FEMALE))
    world: list[Someone] = []
    while len(world) < people:
        father, grandfather = rng.choices(MALE, male_w, k=2)
        nationality = rng.choice(("SDN", "SDN", "SDN", "TCD"))
        for member in range(rng.randint(1, 8)):
            female = rng.random() < 0.52
            given = rng.choices(FEMALE, female_w)[0] if female else rng.choices(MALE, male_w)[0]
            age = rng.randint(18, 70) if member == 0 else int(rng.expovariate(1 / 18))
            world.append(
                Someone(given, father, grandfather, "female" if female else "male",
                        max(THIS_YEAR - age, THIS_YEAR - 95), nationality)
            )  # fmt: skip
    world = world[:people]
    arrivals: list[Arrival] = []

    def spelt(name: tuple[str, ...], in_arabic: bool) -> str:
        latin = rng.choice(name)
        return scripts.choice(ARABIC[name[0]]) if in_arabic else latin

    def family_name(someone: Someone, in_arabic: bool) -> str:
        father = spelt(someone.father, in_arabic)
        if rng.random() < 0.7:
            return f"{father} {spelt(someone.grandfather, in_arabic)}"
        return father

    household, members = 0, 0
    for someone in world:
        if members == 0 or rng.random() < 0.2:
            household, members = household + 1, 0
        members += 1
        known = rng.random() < 0.6
        in_arabic = arabic > 0 and scripts.random() < arabic
        arrivals.append(
            Arrival(
                registration_number=f"SYN-{len(arrivals):07d}",
                given_name=spelt(someone.given, in_arabic),
                family_name=family_name(someone, in_arabic),
                sex=someone.sex,
                nationality=someone.nationality,
                date_of_birth=date(someone.born, rng.randint(1, 12), rng.randint(1, 28))
                if known
                else None,
                estimated_age=None if known else THIS_YEAR - someone.born,
                household_id=f"HH-{household:06d}",
            )
        )
    twice: list[tuple[str, str]] = []
    for index in rng.sample(range(len(world)), int(people * 0.02)):
        someone = world[index]
        twice.append((arrivals[index].registration_number, f"SYN-{len(arrivals):07d}"))
        in_arabic = arabic > 0 and scripts.random() < arabic
        arrivals.append(
            Arrival(
                registration_number=f"SYN-{len(arrivals):07d}",
                given_name=spelt(someone.given, in_arabic),
                family_name=family_name(someone, in_arabic),
                sex=someone.sex,
                nationality=someone.nationality,
                estimated_age=max(0, THIS_YEAR - someone.born + rng.choice((-1, 0, 0, 1))),
            )
        )
    return Caseload(arrivals, twice)


def register(url: str, load: Caseload, batch: int) -> float:
    registry = Registry(env=library_env_for(url))
    try:
        registry.open_site(code="RC-SYN", name="Synthetic reception", kind="reception",
                           capacity=10_000_000, actor="bench")  # fmt: skip
        start = time.perf_counter()
        for i in range(0, len(load.arrivals), batch):
            registry.register_arrivals(
                site_code="RC-SYN", arrivals=load.arrivals[i : i + batch], actor="bench"
            )
        return time.perf_counter() - start
    finally:
        registry.close()


def drop_read_models(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for cls in READ_MODELS:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(cls.live_schema())
                )
            )


def project(url: str, models: list[type[ReadModel]]) -> tuple[float, int, Projector]:
    drop_read_models(url)
    projector = Projector(url, models)
    start = time.perf_counter()
    projector.catch_up()
    seconds = time.perf_counter() - start
    events = projector.head()
    projector.close()
    return seconds, events, projector


def recall(url: str, load: Caseload) -> tuple[int, list[int]]:
    """Pairs proposed, and the rank of each person registered twice (1: top of the list)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT ra.registration_number, rb.registration_number "
            f"FROM {Duplicates.live_schema()}.candidates c "
            "JOIN read_roster.roster ra ON ra.person_id = c.person_id "
            "JOIN read_roster.roster rb ON rb.person_id = c.other_id "
            "ORDER BY c.score DESC, c.person_id, c.other_id"
        ).fetchall()
    rank = {frozenset(r): i + 1 for i, r in enumerate(rows)}
    return len(rows), sorted(rank[p] for p in map(frozenset, load.twice) if p in rank)


def all_pairs_cost(url: str, sample: int, seed: int) -> float:
    """Seconds per pair of ``assess`` on random profiles (what no blocking would pay)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT person_id, sex, given_form, family_form, given_key, family_key, block, "
            "date_of_birth, estimated_age, registered_year, household_id, site_code, active "
            f"FROM {Duplicates.live_schema()}.people ORDER BY random() LIMIT %s",
            (sample,),
        ).fetchall()
    profiles = [Profile(*r) for r in rows]
    rng = random.Random(seed)
    pairs = [(rng.choice(profiles), rng.choice(profiles)) for _ in range(200_000)]
    start = time.perf_counter()
    for a, b in pairs:
        assess(a, b)
    return (time.perf_counter() - start) / len(pairs)


def blocks(url: str) -> tuple[int, int, int]:
    """The largest block (same sex, block key and birth year), the largest window a record
    is matched against (birth years ±2), and how many records have no block at all."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT sex, block, coalesce(extract(year FROM date_of_birth)::int, "
            "registered_year - coalesce(estimated_age, 0)) AS born, count(*) "
            f"FROM {Duplicates.live_schema()}.people WHERE active GROUP BY 1, 2, 3"
        ).fetchall()
    sizes = Counter({(sex, block, born): n for sex, block, born, n in rows if block})
    windows = (
        sum(sizes.get((sex, block, y), 0) for y in range(born - 2, born + 3))
        for sex, block, born in sizes
    )
    unblocked = sum(n for _, block, _, n in rows if not block)
    return max(sizes.values(), default=0), max(windows, default=0), unblocked


def main(people: int = 100_000, batch: int = 1_000, seed: int = 7, arabic: float = 0.0) -> None:
    load = caseload(people, seed, arabic)
    n = len(load.arrivals)
    others = [cls for cls in READ_MODELS if cls is not Duplicates]
    # One database per run: two engineers benchmarking at once must not drop each other's.
    with fresh_database(f"bench_duplicates_{os.getpid()}") as url:
        registering = register(url, load, batch)
        runs = {}
        plan: list[tuple[str, list[type[ReadModel]]]] = [
            ("other read models", others),
            ("duplicates alone", [Duplicates]),
            ("all read models", list(READ_MODELS)),
        ]
        for label, models in plan:
            runs[label] = project(url, models)
        duplicates = runs["duplicates alone"][2].models[0]
        assert isinstance(duplicates, Duplicates)
        stats = duplicates.stats
        proposed, ranks = recall(url, load)
        per_pair = all_pairs_cost(url, 5_000, seed)
        largest_block, largest_window, unblocked = blocks(url)

    table = Table(
        title=f"Projecting {n:,} registrations, {arabic:.0%} in Arabic script "
        f"({registering:.1f} s to register)"
    )
    for column in ("projection", "events", "seconds", "events/s", "vs other models"):
        table.add_column(column, justify="right")
    base = runs["other read models"]
    base_rate = base[1] / base[0]
    for label, (seconds, events, _) in runs.items():
        rate = events / seconds
        table.add_row(label, f"{events:,}", f"{seconds:.1f}", f"{rate:,.0f}",
                      f"{rate / base_rate:.2f}x")  # fmt: skip
    console.print(table)

    all_pairs = n * (n - 1) // 2
    blocking = Table(title="Blocking: sex + family-name sound key + birth year ±2")
    for column in ("pairs", "count", "share of all pairs"):
        blocking.add_column(column, justify="right")
    for label, count in (
        ("all pairs", all_pairs),
        # A pair whose two records were matched in one batch is looked at from both sides.
        ("looked at in a block's window", stats.window),
        ("scored (after prefilter)", stats.scored),
        ("proposed", proposed),
    ):
        blocking.add_row(label, f"{count:,}", f"{count / all_pairs:.2e}")
    console.print(blocking)
    median = ranks[len(ranks) // 2] if ranks else 0
    console.print(
        f"registered twice on purpose: {len(load.twice):,}, of which proposed: {len(ranks):,} "
        f"(median rank {median:,} of {proposed:,}); scoring one pair: "
        f"{per_pair * 1e6:.1f} µs, so all pairs would take {all_pairs * per_pair / 3600:,.1f} h "
        "of scoring alone."
    )
    console.print(
        f"largest block: {largest_block:,} records; largest window: {largest_window:,}; "
        f"records in no block (no name to key): {unblocked:,}"
    )


if __name__ == "__main__":
    typer.run(main)
