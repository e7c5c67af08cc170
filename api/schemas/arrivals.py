"""Registering arrivals: one person, or a batch at one site."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from pydantic import ConfigDict, Field

from campledger.api.schemas.base import CommandPublic, Strict
from campledger.api.schemas.examples import ARRIVAL, example
from campledger.api.schemas.fields import (
    CHOICE_MAX,
    NATIONALITY_PATTERN,
    Age,
    DateOfBirth,
    DateTime,
    NeedCode,
    date_of_birth_field,
    one_of,
    required_text,
)
from campledger.domain.model.arrival import IDENTIFIER_MAX, LATIN_NAME_PATTERN, Arrival
from campledger.domain.model.registration_numbers import (
    REGISTRATION_NUMBER_MAX,
    REGISTRATION_NUMBER_RULE,
    registration_number_pattern,
)
from campledger.domain.model.site import SITE_CODE_MAX
from campledger.domain.model.values import TEXT_MAX, YEAR, Relationship, Sex, parse_date_of_birth


class ArrivalCreate(Strict):
    # The domain needs one of the two to place the person in an age band: say so, so that a
    # client (or a generator) knows an arrival with neither is refused.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["date_of_birth"],
                    "properties": {"date_of_birth": {"type": "string"}},
                },
                {
                    "required": ["estimated_age"],
                    "properties": {"estimated_age": {"type": "integer"}},
                },
            ]
        }
    )

    registration_number: str = Field(
        max_length=REGISTRATION_NUMBER_MAX,
        examples=["ADR-2025-000123"],
        description=REGISTRATION_NUMBER_RULE,
        json_schema_extra=lambda schema: schema.update(pattern=registration_number_pattern()),
    )
    given_name: str = required_text(
        TEXT_MAX, description="As the person writes it, in any script (Arabic, Latin, Cyrillic…)."
    )
    family_name: str = Field(default="", max_length=TEXT_MAX)
    given_name_latin: str | None = Field(
        default=None,
        max_length=TEXT_MAX,
        json_schema_extra={"pattern": LATIN_NAME_PATTERN},
        description="The given name in Latin letters (as on UNHCR documents), when "
        "`given_name` is written in another script.",
    )
    family_name_latin: str | None = Field(
        default=None,
        max_length=TEXT_MAX,
        json_schema_extra={"pattern": LATIN_NAME_PATTERN},
        description="The family name in Latin letters, likewise.",
    )
    sex: str = one_of(Sex, max_length=20)
    nationality: str = Field(
        max_length=3,
        json_schema_extra={"pattern": NATIONALITY_PATTERN},
        description="ISO 3166-1 alpha-3, or XXA/XXB/XXC/XXX/ZZZ for stateless or unknown",
    )
    date_of_birth: DateOfBirth | None = date_of_birth_field()
    estimated_age: Age | None = None
    household_id: str | None = Field(default=None, max_length=IDENTIFIER_MAX)
    relationship: str | None = one_of(Relationship, default=None, max_length=CHOICE_MAX)
    biometric_reference: str | None = Field(default=None, max_length=IDENTIFIER_MAX)
    specific_needs: list[NeedCode] = Field(
        default_factory=list,
        max_length=20,
        description="UNHCR specific-needs codes (docs/specific-needs.md), any case.",
    )
    occurred_at: DateTime | None = None
    person_id: UUID | None = Field(default=None, description="Minted by an offline device.")

    def to_arrival(self) -> Arrival:
        # The body's fields are Arrival's (and the schema publishes them): read by name.
        # How precise the date of birth is, is read from the date itself.
        values = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(Arrival)
            if field.name != "date_of_birth_precision"
        }
        born, precision = None, None
        if self.date_of_birth is not None:
            born, precision = parse_date_of_birth(self.date_of_birth)
        return Arrival(
            **{**values, "specific_needs": tuple(self.specific_needs), "date_of_birth": born},
            # Only a year is said: a full date is the default, so that a request sent
            # before years could be still fingerprints as it did.
            date_of_birth_precision=precision if precision == YEAR else None,
        )


class SingleArrivalCreate(ArrivalCreate):
    model_config = example({**ARRIVAL, "site_code": "RC-ADRE"}, keep=ArrivalCreate)

    site_code: str = required_text(SITE_CODE_MAX)


class ArrivalBatchCreate(Strict):
    model_config = example(
        {"site_code": "RC-ADRE", "arrivals": [
            ARRIVAL,
            {**ARRIVAL, "registration_number": "ADR-2025-000124", "given_name": "Yousra",
             "given_name_latin": None, "family_name": "Abdelkarim", "family_name_latin": None,
             "date_of_birth": None, "estimated_age": 6, "relationship": "child",
             "specific_needs": []},
        ]}
    )  # fmt: skip

    site_code: str = required_text(SITE_CODE_MAX)
    # The domain limits a batch (domain.commands.MAX_BATCH); a longer list gets 413 from
    # it, not a schema 422.
    arrivals: list[ArrivalCreate] = Field(json_schema_extra={"minItems": 1})


class ArrivalPublic(CommandPublic):
    person_id: UUID


class ArrivalBatchPublic(CommandPublic):
    person_ids: list[UUID]
