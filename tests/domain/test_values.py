"""The vocabulary of the field: nationalities, sexes, ages and age bands."""

from __future__ import annotations

from datetime import date

import pytest

from campledger.domain.model import errors
from campledger.domain.model.values import (
    MAX_AGE,
    Sex,
    age_band,
    age_on,
    check_age,
    parse_nationality,
    parse_sex,
)

TODAY = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("SDN", "SDN"),
        ("sdn", "SDN"),
        (" Ssd ", "SSD"),
        ("ukr", "UKR"),
        ("XXA", "XXA"),
        ("xxb", "XXB"),
        ("XXC", "XXC"),
        ("XXX", "XXX"),
        ("ZZZ", "ZZZ"),
    ],
)
def test_a_nationality_is_an_iso_alpha3_code_normalised_to_upper_case(
    given: str, code: str
) -> None:
    assert parse_nationality(given) == code


@pytest.mark.parametrize("given", ["", "SD", "SUDAN", "QQQ", "S1N", "sd n", "276"])
def test_an_invalid_nationality_is_refused(given: str) -> None:
    with pytest.raises(errors.InvalidNationality) as info:
        parse_nationality(given)
    assert info.value.code == "invalid-nationality"
    assert info.value.kind == errors.ErrorKind.INVALID


def test_a_nationality_that_is_not_text_is_refused() -> None:
    with pytest.raises(errors.InvalidNationality):
        parse_nationality(276)  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["female", "male", "unknown"])
def test_the_three_sexes_are_accepted(given: str) -> None:
    assert parse_sex(given) == Sex(given)


@pytest.mark.parametrize("given", ["F", "Female", "other", ""])
def test_any_other_sex_is_refused_listing_the_allowed_values(given: str) -> None:
    with pytest.raises(errors.InvalidSex) as info:
        parse_sex(given)
    assert "female, male, unknown" in info.value.message


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "0-4"),
        (4, "0-4"),
        (5, "5-11"),
        (11, "5-11"),
        (12, "12-17"),
        (17, "12-17"),
        (18, "18-59"),
        (59, "18-59"),
        (60, "60+"),
        (MAX_AGE, "60+"),
        (None, "unknown"),
        (-1, "unknown"),
    ],
)
def test_age_bands_have_the_humanitarian_boundaries(age: int | None, band: str) -> None:
    assert age_band(age) == band


@pytest.mark.parametrize(
    ("born", "age"),
    [(date(2000, 3, 1), 25), (date(2000, 3, 2), 24), (date(2000, 2, 29), 25), (TODAY, 0)],
)
def test_age_counts_whole_years_up_to_the_birthday(born: date, age: int) -> None:
    assert age_on(born, TODAY) == age


def test_an_age_needs_a_date_of_birth_or_an_estimate() -> None:
    with pytest.raises(errors.InvalidAge):
        check_age(None, None, TODAY)
    check_age(None, 0, TODAY)
    check_age(None, MAX_AGE, TODAY)
    check_age(TODAY, None, TODAY)


@pytest.mark.parametrize(
    ("born", "estimate"),
    [(date(2025, 3, 2), None), (date(1894, 1, 1), None), (None, MAX_AGE + 1), (None, -1)],
)
def test_an_age_out_of_range_is_refused(born: date | None, estimate: int | None) -> None:
    with pytest.raises(errors.InvalidAge):
        check_age(born, estimate, TODAY)


def test_every_error_has_a_stable_code_and_a_kind() -> None:
    def all_subclasses(cls: type[errors.DomainError]) -> list[type[errors.DomainError]]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *all_subclasses(sub)]
        return found

    classes = all_subclasses(errors.DomainError)
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)), "error codes must be unique"
    assert all(c.kind in errors.ErrorKind for c in classes)
