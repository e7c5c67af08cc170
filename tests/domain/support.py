"""Given/when/then helpers for the domain tests: a registry on a fixed clock, no I/O."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from campledger.domain.model.arrival import Arrival
from campledger.domain.model.errors import DomainError
from campledger.domain.model.person import Person
from campledger.domain.model.site import Site
from campledger.domain.model.transfer import Transfer
from campledger.domain.service.registry import Registry

FIXED_NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# Registrations default to an hour before "now" so that tests can place later field
# events between the registration and the clock.
REGISTERED_AT = FIXED_NOW - timedelta(hours=1)
ACTOR = "officer-1"

_counter = iter(range(1, 10**9))


def make_registry() -> Registry:
    return Registry(clock=lambda: FIXED_NOW)


def arrival(**overrides: Any) -> Arrival:
    """A valid arrival with a fresh registration number; override any field."""
    n = next(_counter)
    base = Arrival(
        registration_number=f"REG-{n:06d}",
        given_name="Amina",
        family_name="Haroun",
        sex="female",
        nationality="SDN",
        estimated_age=30,
        occurred_at=REGISTERED_AT,
    )
    return replace(base, **overrides)


def open_site(registry: Registry, code: str, kind: str = "reception", capacity: int = 500) -> None:
    registry.open_site(
        code=code,
        name=f"Site {code}",
        kind=kind,
        capacity=capacity,
        occurred_at=REGISTERED_AT - timedelta(days=1),
        actor=ACTOR,
    )


def register(registry: Registry, site_code: str = "RC-1", **overrides: Any) -> UUID:
    result = registry.register_arrival(
        site_code=site_code, arrival=arrival(**overrides), actor=ACTOR
    )
    return UUID(result.result["person_id"])


def person(registry: Registry, person_id: UUID) -> Person:
    found = registry.repository.get(person_id)
    assert isinstance(found, Person)
    return found


def site(registry: Registry, code: str) -> Site:
    return registry.get_site(code)


def transfer(registry: Registry, transfer_id: UUID) -> Transfer:
    found = registry.repository.get(transfer_id)
    assert isinstance(found, Transfer)
    return found


def head(registry: Registry) -> int:
    """The log position of the last stored event (0 for an empty log)."""
    return registry.recorder.max_notification_id() or 0


def events_after(registry: Registry, position: int) -> list[Any]:
    """The domain events stored after a log position, in log order."""
    notifications = registry.recorder.select_notifications(start=position + 1, limit=100_000)
    return [registry.mapper.to_domain_event(n) for n in notifications]


def names(events: list[Any]) -> list[str]:
    return [type(e).__qualname__ for e in events]


@contextmanager
def refused(
    registry: Registry, error: type[DomainError]
) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """Then: the command fails with this error and nothing at all is written."""
    before = head(registry)
    with pytest.raises(error) as info:
        yield info
    assert head(registry) == before, "a refused command must write nothing"


def plan(
    registry: Registry,
    manifest: list[UUID],
    origin: str = "RC-1",
    destination: str = "CAMP-1",
    **kwargs: Any,
) -> UUID:
    result = registry.plan_transfer(
        origin=origin, destination=destination, manifest=manifest, actor=ACTOR, **kwargs
    )
    return UUID(result.result["transfer_id"])


def dispatched(registry: Registry, manifest: list[UUID], **kwargs: Any) -> UUID:
    transfer_id = plan(registry, manifest, **kwargs)
    registry.dispatch_transfer(transfer_id=transfer_id, actor=ACTOR)
    return transfer_id


def today() -> date:
    return FIXED_NOW.date()
