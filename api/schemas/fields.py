"""The kinds of field the bodies are made of: text the domain requires, choices, codes in
any case, RFC 3339 dates, numbers that are not booleans.

The domain's rules on single values are stated here for the OpenAPI document only: the
domain still enforces them with its own problems (invalid-input, invalid-screening-step,
...), the same from every way in (HTTP, sync, import), so pydantic does not check them
twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AwareDatetime, BeforeValidator, Field, WithJsonSchema

from campledger.domain.model import errors
from campledger.domain.model.needs import LEGACY_NEEDS, NEED_CODES
from campledger.domain.model.values import MAX_AGE, nationality_codes, parse_date_of_birth

# Text the domain requires (domain.values.check_text): one character that is not white
# space, and no NUL.
REQUIRED_TEXT = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
# A choice from one of the domain's vocabularies (a relationship, a screening step, ...):
# the domain names the choices; this only bounds what the document lets a client send.
CHOICE_MAX = 40


def required_text(max_length: int, **field: Any) -> Any:
    return Field(max_length=max_length, json_schema_extra={"pattern": REQUIRED_TEXT}, **field)


def one_of(values: Iterable[str], **field: Any) -> Any:
    return Field(json_schema_extra={"enum": list(values)}, **field)


def any_case(codes: Iterable[str], *, padded: bool = False) -> str:
    """A pattern taking exactly these codes, in any mix of capitals and small letters (and
    with surrounding blanks, if ``padded``), as the domain does: an enum would call "sdn"
    invalid where the server accepts it.

    Stated in the document only: the domain refuses anything else with its own error,
    which names the codes to use, where a pattern's error would quote the whole pattern.
    """
    spelled = (
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else _literal(c) for c in code)
        for code in sorted(set(codes))
    )
    blank = r"\s*" if padded else ""
    return f"^{blank}(?:{'|'.join(spelled)}){blank}$"


def _literal(char: str) -> str:
    # "-" and "_" stand for themselves outside a class: escaped, ECMAScript's unicode
    # mode (how JavaScript clients check patterns) refuses the whole pattern.
    return char if char.isalnum() or char in "-_" else re.escape(char)


NATIONALITY_PATTERN = any_case(nationality_codes())
# Standard codes, and the first release's codes, which devices may still send.
NEED_PATTERN = any_case(NEED_CODES | LEGACY_NEEDS.keys(), padded=True)
NeedCode = Annotated[str, Field(json_schema_extra={"pattern": NEED_PATTERN})]


# RFC 3339, as ``format: date-time`` and ``format: date`` say: pydantic alone would also
# read a number (0.5, or "86400" in a query) as seconds since 1970, so a field or parameter
# the document calls a date-time or a date would take what is not one.
_RFC_3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rfc_3339(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC_3339.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with its offset, e.g. 2025-03-01T08:00:00Z")


def _full_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _FULL_DATE.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date, e.g. 2025-03-01")


DateTime = Annotated[AwareDatetime, BeforeValidator(_rfc_3339)]
Date = Annotated[date, BeforeValidator(_full_date)]


def _date_of_birth(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and (_FULL_DATE.match(value) or _YEAR.match(value)):
        try:
            parse_date_of_birth(value)
        except errors.InvalidAge as error:
            raise ValueError(error.message) from None
        return value
    raise ValueError("must be an RFC 3339 date, e.g. 1985-06-30, or a year alone, e.g. 1985")


_YEAR = re.compile(r"^\d{4}$")
DATE_OF_BIRTH_RULE = (
    "A full date (RFC 3339 `full-date`, e.g. 1985-06-30), or the year alone (e.g. 1985) when "
    "that is all that is known: it is recorded as a year, never as 1 January, and ages are "
    "reckoned from 1 July of it (the true age or one year off)."
)
# The date as the person's papers give it: in full, or its year alone (ISO 8601's reduced
# precision), kept as the text it came as; ``ArrivalCreate.to_arrival`` reads it.
DateOfBirth = Annotated[
    str,
    BeforeValidator(_date_of_birth),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "pattern": r"^[0-9]{4}$"},
            ]
        }
    ),
]


def date_of_birth_field(description: str = DATE_OF_BIRTH_RULE) -> Any:
    """An optional ``DateOfBirth``: its two forms and null side by side in one ``anyOf``,
    as generators read them best."""

    def flat(schema: dict[str, Any]) -> None:
        options = []
        for option in schema.pop("anyOf", []):
            options.extend(option.get("anyOf", [option]))
        schema.update(anyOf=options, description=description)

    return Field(default=None, examples=["1985-06-30", "1985"], json_schema_extra=flat)


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


def _not_a_boolean_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


# A JSON integer (5 and 5.0 alike), never true or false: pydantic would read true as 1,
# which the document's "integer" does not allow.
WholeNumber = Annotated[int, BeforeValidator(_not_a_boolean)]
Age = Annotated[int, Interval(ge=0, le=MAX_AGE), BeforeValidator(_not_a_boolean)]
# Likewise a coordinate: false is no latitude.
Number = Annotated[float, BeforeValidator(_not_a_boolean_number)]
