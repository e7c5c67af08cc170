"""The command catalogue: every command's permission and sites, stated once and enforced
the same way for every way in (HTTP routes and offline sync go through ``authorise``)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from campledger.api.services.auth import PERMISSIONS, Permission, Principal, Role
from campledger.api.services.catalogue import CATALOGUE, authorise
from campledger.api.services.problems import ApiProblem
from campledger.domain import commands
from campledger.domain.commands import Command, every_command
from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
HOME, FAR, ELSEWHERE = "RC-1", "CAMP-1", "RC-9"
ACTOR = "setup"


@pytest.fixture(scope="module")
def registry() -> Registry:
    r = Registry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: NOW)
    for code, kind in ((HOME, "reception"), (FAR, "camp"), (ELSEWHERE, "reception")):
        r.open_site(code=code, name=code, kind=kind, capacity=100, actor=ACTOR)
    return r


def _person(registry: Registry, number: str) -> UUID:
    arrival = Arrival(registration_number=number, given_name="Amina", family_name="Haroun",
                      sex="female", nationality="SDN", estimated_age=30)  # fmt: skip
    result = registry.register_arrival(site_code=HOME, arrival=arrival, actor=ACTOR)
    return UUID(result.result["person_id"])


@pytest.fixture(scope="module")
def examples(registry: Registry) -> list[Command]:
    """One of each command, every one touching HOME (a transfer from HOME to FAR)."""
    person, other, moving = (_person(registry, f"CAT-{i}") for i in range(3))
    planned = registry.plan_transfer(origin=HOME, destination=FAR, manifest=[moving], actor=ACTOR)
    transfer = UUID(planned.result["transfer_id"])
    arrival = Arrival(registration_number="CAT-NEW", given_name="A", family_name="",
                      sex="male", nationality="SDN", estimated_age=3)  # fmt: skip
    return [
        commands.OpenSite(code=HOME, name="x", kind="camp", capacity=1),
        commands.ChangeSiteCapacity(code=HOME, capacity=5),
        commands.CloseSite(code=HOME),
        commands.RegisterArrival(site_code=HOME, arrival=arrival),
        commands.RegisterArrivals(site_code=HOME, arrivals=[arrival]),
        commands.RecordScreeningStep(person_id=person, step="medical", outcome="cleared"),
        commands.HoldPerson(person_id=person, reason="r"),
        commands.ReleasePerson(person_id=person, reason="r"),
        commands.RecordDeparture(person_id=person, reason="resettled"),
        commands.CorrectDetail(person_id=person, field="sex", value="male", reason="r"),
        commands.ErasePersonalData(person_id=person, basis="subject_request"),
        commands.MergePersons(duplicate_id=other, survivor_id=person, reason="r"),
        commands.DismissDuplicate(person_id=person, other_id=other, reason="r"),
        commands.PlanTransfer(origin=HOME, destination=FAR, manifest=[person]),
        commands.DispatchTransfer(transfer_id=transfer),
        commands.ReceiveTransfer(transfer_id=transfer, site_code=HOME, persons=[moving]),
        commands.ReconcileTransfer(transfer_id=transfer),
        commands.CancelTransfer(transfer_id=transfer, reason="r"),
    ]


def _nobody_households(household: str, joining: UUID) -> list[str | None]:
    return []


def test_every_command_is_in_the_catalogue_and_has_an_example(examples: list[Command]) -> None:
    kinds = {type(c) for c in examples}
    assert set(CATALOGUE) == set(every_command()) == kinds
    assert len(kinds) == 18


@pytest.mark.parametrize("index", range(17))
def test_a_role_without_the_commands_permission_is_refused(
    registry: Registry, examples: list[Command], index: int
) -> None:
    command = examples[index]
    needed = CATALOGUE[type(command)].needs(command)
    without = [role for role in Role if needed not in PERMISSIONS[role]]
    with_it = [role for role in Role if needed in PERMISSIONS[role]]
    assert without and with_it

    for role in without:
        with pytest.raises(ApiProblem) as refused:
            authorise(Principal("t", "n", role), command, registry, _nobody_households)
        assert refused.value.status == 403
    for role in with_it:
        authorise(Principal("t", "n", role), command, registry, _nobody_households)


@pytest.mark.parametrize("index", range(17))
def test_a_token_scoped_elsewhere_is_refused_and_one_scoped_to_the_site_is_not(
    registry: Registry, examples: list[Command], index: int
) -> None:
    command = examples[index]

    def token(*sites: str) -> Principal:
        return Principal("t", "n", Role.ADMIN, frozenset(sites))

    with pytest.raises(ApiProblem) as refused:
        authorise(token(ELSEWHERE), command, registry, _nobody_households)
    assert refused.value.code == "out-of-scope"
    authorise(token(HOME), command, registry, _nobody_households)
    authorise(token(), command, registry, _nobody_households)


def test_a_correction_made_as_family_tracing_needs_its_own_permission(
    registry: Registry,
) -> None:
    person = _person(registry, "CAT-TRACE")
    tracing = commands.CorrectDetail(
        person_id=person, field="household_id", value="HH-1", reason="r", family_tracing=True
    )
    assert CATALOGUE[commands.CorrectDetail].needs(tracing) is Permission.FAMILY_TRACING
    with pytest.raises(ApiProblem):
        authorise(Principal("t", "n", Role.REGISTRAR), tracing, registry, _nobody_households)
    authorise(Principal("t", "n", Role.SITE_MANAGER), tracing, registry, _nobody_households)
