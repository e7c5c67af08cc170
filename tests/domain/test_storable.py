"""Values no event may carry: every command refuses them, with one error, before writing.

A value in the log must also fit every read model, or the projector stops on it for good:
PostgreSQL text holds no NUL, UTF-8 encodes no lone surrogate, commands are fingerprinted
as JSON with 64-bit integers. The rule is ``domain.values.unstorable``; these tests show
that each command taking free text or a free value inherits it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from campledger.domain.model import errors
from campledger.domain.model.values import (
    BEYOND_64_BITS,
    MAX_NESTING,
    NUL_CHARACTER,
    SURROGATE,
    TOO_DEEP,
    unstorable,
)
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, arrival, plan, refused, register

NUL = "Ha\x00wa"
LONE_SURROGATE = "Ha\ud800wa"


def nested(depth: int) -> list[Any]:
    """A list ``depth`` lists deep (built without recursion, as a parser would)."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Hawa", None),
        ("Hawa 😀 حواء", None),
        (NUL, NUL_CHARACTER),
        (LONE_SURROGATE, SURROGATE),
        ("\udc00", SURROGATE),
        (2**63 - 1, None),
        (-(2**63), None),
        (2**63, BEYOND_64_BITS),
        (-(2**63) - 1, BEYOND_64_BITS),
        (10**30, BEYOND_64_BITS),
        (True, None),
        (["SM-OT", ["a", [NUL]]], NUL_CHARACTER),
        ({"key": [1, 2**64]}, BEYOND_64_BITS),
        ({NUL: "a key is stored too"}, NUL_CHARACTER),
        (nested(MAX_NESTING), None),
        (nested(MAX_NESTING + 1), TOO_DEEP),
        (nested(900), TOO_DEEP),
        (nested(100_000), TOO_DEEP),
        (None, None),
        (1.5, None),
    ],
    ids=lambda v: type(v).__name__,
)
def test_a_value_is_unstorable_for_one_named_reason(value: Any, reason: str | None) -> None:
    assert unstorable(value) == reason


def test_a_wide_value_is_walked_without_recursion_and_found_at_its_end() -> None:
    value: list[Any] = [["ok"] * 10 for _ in range(1_000)]
    value.append([[[2**70]]])
    assert unstorable(value) == BEYOND_64_BITS


# --- every command that takes free text ---------------------------------------------------


@dataclass(frozen=True)
class Given:
    """Two persons at RC-1 and a transfer planned for a third, arranged before the command."""

    person: UUID
    other: UUID
    transfer: UUID


@pytest.fixture
def given(sites: Registry) -> Given:
    return Given(register(sites), register(sites), plan(sites, [register(sites)]))


Command = Callable[[Registry, Given, str], object]


COMMANDS: dict[str, Command] = {
    "arrival given name": lambda r, g, text: r.register_arrival(
        site_code="RC-1", arrival=arrival(given_name=text), actor=ACTOR
    ),
    "arrival family name": lambda r, g, text: r.register_arrival(
        site_code="RC-1", arrival=arrival(family_name=text), actor=ACTOR
    ),
    "arrival registration number": lambda r, g, text: r.register_arrival(
        site_code="RC-1", arrival=arrival(registration_number="R-" + text), actor=ACTOR
    ),
    "arrival household id": lambda r, g, text: r.register_arrival(
        site_code="RC-1", arrival=arrival(household_id=text), actor=ACTOR
    ),
    "arrival biometric reference": lambda r, g, text: r.register_arrival(
        site_code="RC-1", arrival=arrival(biometric_reference=text), actor=ACTOR
    ),
    "hold reason": lambda r, g, text: r.hold_person(person_id=g.person, reason=text, actor=ACTOR),
    "screening reason": lambda r, g, text: r.record_screening_step(
        person_id=g.person, step="medical", outcome="referred", reason=text, actor=ACTOR
    ),
    "corrected name": lambda r, g, text: r.correct_detail(
        person_id=g.person, field="given_name", value=text, reason="typo", actor=ACTOR
    ),
    "correction reason": lambda r, g, text: r.correct_detail(
        person_id=g.person, field="given_name", value="Hawa", reason=text, actor=ACTOR
    ),
    "merge reason": lambda r, g, text: r.merge_persons(
        duplicate_id=g.person, survivor_id=g.other, reason=text, actor=ACTOR
    ),
    "duplicate dismissal reason": lambda r, g, text: r.dismiss_duplicate(
        person_id=g.person, other_id=g.other, reason=text, actor=ACTOR
    ),
    "site name": lambda r, g, text: r.open_site(
        code="RC-9", name=text, kind="camp", capacity=1, actor=ACTOR
    ),
    "site closing reason": lambda r, g, text: r.close_site(code="RC-2", reason=text, actor=ACTOR),
    "capacity change reason": lambda r, g, text: r.change_site_capacity(
        code="RC-2", capacity=5, reason=text, actor=ACTOR
    ),
    "transfer vehicle": lambda r, g, text: r.plan_transfer(
        origin="RC-1", destination="CAMP-1", manifest=[g.person], vehicle=text, actor=ACTOR
    ),
    "transfer cancel reason": lambda r, g, text: r.cancel_transfer(
        transfer_id=g.transfer, reason=text, actor=ACTOR
    ),
    "actor (the CLI's --actor)": lambda r, g, text: r.hold_person(
        person_id=g.person, reason="interview", actor="cli:" + text
    ),
    "idempotency key": lambda r, g, text: r.hold_person(
        person_id=g.person, reason="interview", actor=ACTOR, idempotency_key="k-" + text
    ),
}


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE], ids=["NUL", "lone surrogate"])
@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_refuses_unstorable_text_and_writes_nothing(
    sites: Registry, given: Given, command: Command, text: str
) -> None:
    with refused(sites, errors.UnstorableValue) as raised:
        command(sites, given, text)
    assert raised.value.code == "unstorable-value"
    assert text not in raised.value.message, "the refusal echoed the value back"


def test_a_batch_names_the_item_with_the_unstorable_value(sites: Registry) -> None:
    arrivals = [arrival(), arrival(given_name=NUL), arrival()]
    with refused(sites, errors.BatchRejected) as raised:
        sites.register_arrivals(site_code="RC-1", arrivals=arrivals, actor=ACTOR)
    [item] = raised.value.details["items"]
    assert (item["index"], item["code"]) == (1, "unstorable-value")


@pytest.mark.parametrize(
    "value",
    [nested(900), [2**64], {"a": NUL}, ["SM-OT", LONE_SURROGATE]],
    ids=["900 deep", "beyond 64 bits", "NUL in a mapping", "surrogate in a list"],
)
@pytest.mark.parametrize("key", [None, "k-1"], ids=["no key", "with a key"])
def test_a_correction_value_that_cannot_be_stored_is_refused_whatever_its_field(
    sites: Registry, value: Any, key: str | None
) -> None:
    person_id = register(sites)
    for field in ("specific_needs", "date_of_birth", "given_name"):
        with refused(sites, errors.UnstorableValue):
            sites.correct_detail(
                person_id=person_id,
                field=field,
                value=value,
                reason="typo",
                actor=ACTOR,
                idempotency_key=key,
            )
