"""Value types and their validation: the vocabulary of the field as code."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

import pycountry

from campledger.domain.model import errors

E = TypeVar("E", bound=StrEnum)


class SiteKind(StrEnum):
    RECEPTION = "reception"
    SCREENING = "screening"
    TRANSIT = "transit"
    CAMP = "camp"
    HOSPITAL = "hospital"
    HOLDING = "holding"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class ScreeningStep(StrEnum):
    IDENTITY = "identity"
    MEDICAL = "medical"
    VULNERABILITY = "vulnerability"
    SECURITY = "security"


class ScreeningOutcome(StrEnum):
    CLEARED = "cleared"
    REFERRED = "referred"
    HELD = "held"


class PersonStatus(StrEnum):
    PRESENT = "present"
    HELD = "held"
    IN_TRANSIT = "in_transit"
    UNACCOUNTED = "unaccounted"
    DEPARTED = "departed"
    MERGED = "merged"


class DepartureReason(StrEnum):
    RELEASED_TO_COMMUNITY = "released_to_community"
    RETURNED = "returned"
    RESETTLED = "resettled"
    REPATRIATED = "repatriated"
    DECEASED = "deceased"
    ABSCONDED = "absconded"


class ErasureBasis(StrEnum):
    """Why a person's personal data was erased: a code, never free text, since the erasure
    event must itself hold no personal data."""

    SUBJECT_REQUEST = "subject_request"  # the person asked
    COURT_ORDER = "court_order"
    DATA_PROTECTION_OFFICER = "data_protection_officer"  # the officer's own decision
    RETENTION = "retention"  # the operation's retention policy


class Relationship(StrEnum):
    FOCAL_POINT = "focal_point"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDCHILD = "grandchild"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    NON_RELATIVE = "non_relative"


class TransferState(StrEnum):
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    RECONCILED = "reconciled"
    CANCELLED = "cancelled"


# A person's attributes that are personal data (see the glossary), in the order exports
# list them. Shown only to roles allowed to see personal data, and never logged.
PERSONAL_FIELDS = (
    "given_name",
    "family_name",
    "given_name_latin",
    "family_name_latin",
    "date_of_birth",
    "biometric_reference",
)

AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-4", 0, 4),
    ("5-11", 5, 11),
    ("12-17", 12, 17),
    ("18-59", 18, 59),
    ("60+", 60, None),
)

MAX_AGE = 130

# Field devices' clocks drift; an event a few minutes "in the future" is a clock,
# not a lie. Anything beyond this is refused.
CLOCK_SKEW = timedelta(minutes=5)


def age_band(age: int | None) -> str:
    """The humanitarian age bracket for an age in whole years ('unknown' if none)."""
    if age is None:
        return "unknown"
    for name, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return name
    return "unknown"


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier; 29 February has no twin in most years, and the 28th
    is the day by which that birthday has passed."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_on(date_of_birth: date, day: date) -> int:
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


@lru_cache(maxsize=512)
def _known_alpha3(code: str) -> bool:
    return pycountry.countries.get(alpha_3=code) is not None


# Stateless persons and unknown nationality are everyday realities at a border;
# ISO 3166 has no code for them, so the UNHCR/ICAO conventions are accepted too.
EXTRA_NATIONALITY_CODES = frozenset({"XXA", "XXB", "XXC", "XXX", "ZZZ"})


def nationality_codes() -> list[str]:
    """Every code ``parse_nationality`` accepts (in capitals; it also takes any case)."""
    return sorted({c.alpha_3 for c in pycountry.countries} | EXTRA_NATIONALITY_CODES)


def parse_nationality(value: str) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) == 3 and (code in EXTRA_NATIONALITY_CODES or _known_alpha3(code)):
        return code
    raise errors.InvalidNationality(
        "nationality must be an ISO 3166-1 alpha-3 code (or XXA/XXB/XXC/XXX for stateless "
        "or unknown)"
    )


def parse_enum(enum: type[E], value: str, error: type[errors.DomainError]) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise error(f"{enum.__name__.lower()} must be one of: {allowed}") from None


def parse_sex(value: str) -> Sex:
    return parse_enum(Sex, value, errors.InvalidSex)


# How much of a date of birth is known. Registration papers and partners' lists often give
# the year alone; it is recorded as such (the date's month and day then mean nothing: the
# event holds 1 January of that year and says "year"), never as a 1 January birthday.
DAY = "day"
YEAR = "year"
PRECISIONS = (DAY, YEAR)

# A date of birth as text: ISO 8601 in full (1985-06-30) or reduced to the year (1985).
DATE_OF_BIRTH_PATTERN = r"^\s*[0-9]{4}(-[0-9]{2}-[0-9]{2})?\s*$"
_ISO_DATE_OF_BIRTH = re.compile(r"^([0-9]{4})(?:-([0-9]{2})-([0-9]{2}))?$")
_DAY_FIRST = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
# The written orders of a full date an import may say its file uses (ISO is the default:
# 03/04/2001 is 3 April in Chad and 4 March in a US spreadsheet, so it is never guessed).
ISO_DATES = "YYYY-MM-DD"
DAY_FIRST_DATES = "DD/MM/YYYY"
DATE_FORMATS = (ISO_DATES, DAY_FIRST_DATES)


def parse_date_of_birth(text: str, date_format: str = ISO_DATES) -> tuple[date, str]:
    """A date of birth written as text and how precise it is: the full date in
    ``date_format``, or a year alone (1985) in any format. Raises ``InvalidAge``."""
    value = text.strip() if isinstance(text, str) else ""
    if date_format == DAY_FIRST_DATES and (found := _DAY_FIRST.match(value)):
        day, month, year = (int(part) for part in found.groups())
    elif (found := _ISO_DATE_OF_BIRTH.match(value)) and (
        found.group(2) is None or date_format == ISO_DATES
    ):
        if found.group(2) is None:
            year = int(found.group(1))
            if year < 1:
                raise errors.InvalidAge("year of birth must be a year")
            return date(year, 1, 1), YEAR
        year, month, day = (int(part) for part in found.groups())
    else:
        raise errors.InvalidAge(f"date of birth must be a date as {date_format}, or a year (YYYY)")
    try:
        return date(year, month, day), DAY
    except ValueError:
        raise errors.InvalidAge("date of birth is not a day of the calendar") from None


def reckoned_birthday(date_of_birth: date, precision: str | None) -> date:
    """The day ages are counted from. A year alone counts from 1 July, its middle: the age
    given is the person's true age or one year off either way (older before their real
    birthday in the first half of the year, younger after it in the second), never more."""
    return date_of_birth.replace(month=7, day=1) if precision == YEAR else date_of_birth


def age_from_birth(date_of_birth: date, precision: str | None, day: date) -> int:
    """Completed years on ``day`` (see ``reckoned_birthday``); a year-only birth in this
    very year is 0, not -1."""
    return max(0, age_on(reckoned_birthday(date_of_birth, precision), day))


def date_of_birth_text(date_of_birth: date | None, precision: str | None) -> str | None:
    """A date of birth as it is known, ISO 8601: 1985-06-30, or 1985 for a year alone."""
    if date_of_birth is None:
        return None
    return str(date_of_birth.year).zfill(4) if precision == YEAR else date_of_birth.isoformat()


def check_age(
    date_of_birth: date | None,
    estimated_age: int | None,
    today: date,
    precision: str | None = DAY,
) -> None:
    if date_of_birth is None and estimated_age is None:
        raise errors.InvalidAge("a date of birth or an estimated age is required")
    if precision not in (*PRECISIONS, None):
        raise errors.InvalidAge("date of birth precision must be one of: day, year")
    if date_of_birth is not None:
        earliest = date_of_birth.replace(month=1, day=1) if precision == YEAR else date_of_birth
        if earliest > today:
            raise errors.InvalidAge("date of birth is in the future")
        if age_on(reckoned_birthday(date_of_birth, precision), today) > MAX_AGE:
            raise errors.InvalidAge(f"date of birth gives an age above {MAX_AGE}")
    if estimated_age is not None and not 0 <= estimated_age <= MAX_AGE:
        raise errors.InvalidAge(f"estimated age must be between 0 and {MAX_AGE}")


def check_occurred_at(occurred_at: datetime, now: datetime, after: datetime | None) -> None:
    """Field time may lag (offline devices) but never lead the clock, nor go backwards."""
    if occurred_at.tzinfo is None:
        raise errors.InvalidOccurredAt("occurred_at must include a time zone")
    if occurred_at > now + CLOCK_SKEW:
        raise errors.OccurredInFuture("occurred_at is in the future")
    if after is not None and occurred_at < after:
        raise errors.OccurredBeforeLastEvent(
            "occurred_at is earlier than the last recorded event of this record"
        )


# --- what the log and the read models can hold ------------------------------------------
#
# A value that reaches the log must also fit every read model, or the projector stops on
# it for good (the log is append-only). PostgreSQL text cannot hold NUL, UTF-8 cannot
# encode an unpaired surrogate, and commands are fingerprinted as JSON with 64-bit
# integers. Every way in (JSON bodies, CSV import, sync, the CLI) refuses such values
# through this one function, with the one error ``UnstorableValue``.

_UNSTORABLE_CHARACTER = re.compile(r"[\x00\ud800-\udfff]")
# Deeper than any value a command takes (a list of codes is 1 deep); the bound keeps a
# hostile value from costing more than its size, and the walk below is iterative so no
# depth can overflow the stack.
MAX_NESTING = 32
_INT64 = range(-(2**63), 2**63)

NUL_CHARACTER = "must not contain NUL characters"
SURROGATE = "must not contain unpaired surrogate characters"
BEYOND_64_BITS = "must not hold whole numbers beyond 64 bits"
TOO_DEEP = f"must not be nested more than {MAX_NESTING} deep"


def unstorable_text(text: str) -> str | None:
    """Why this text cannot be stored, or None: the fast check for a single string."""
    found = _UNSTORABLE_CHARACTER.search(text)
    if found is None:
        return None
    return NUL_CHARACTER if found.group() == "\x00" else SURROGATE


def unstorable(value: object) -> str | None:
    """Why a value (text, number, or lists and mappings of them) cannot be stored, or None.

    Walks the value with an explicit stack: a list nested 900 deep is refused, not a
    RecursionError. Values of other types (dates, UUIDs, models) are left to their own
    checks.
    """
    if isinstance(value, str):  # most values: no walk needed
        return unstorable_text(value)
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            reason = unstorable_text(item)
            if reason is not None:
                return reason
        elif isinstance(item, int) and not isinstance(item, bool):
            if item not in _INT64:
                return BEYOND_64_BITS
        elif isinstance(item, list | tuple | dict):
            if depth >= MAX_NESTING:
                return TOO_DEEP
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def check_storable(name: str, value: object) -> None:
    reason = unstorable(value)
    if reason is not None:
        raise errors.UnstorableValue(f"{name} {reason}")


# How long text may be. The domain refuses longer text; the API's schemas state the same
# bounds in the OpenAPI document and the CSV import checks them before anything is written,
# both from these names.
TEXT_MAX = 200  # free text: a name (in either form), a site's name, an authority
REASON_MAX = 500  # the reason given with a command
ORDER_REFERENCE_MAX = 100  # the reference of an order (a hold, a release, a transfer)


def check_text(name: str, value: str, *, max_length: int = TEXT_MAX, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    reason = unstorable_text(text)
    if reason is not None:
        raise errors.UnstorableValue(f"{name} {reason}")
    if required and not text:
        raise errors.InvalidInput(f"{name} is required")
    if len(text) > max_length:
        raise errors.InvalidInput(f"{name} is longer than {max_length} characters")
    return text
