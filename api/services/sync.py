"""Offline sync: a field device's queue of commands, applied in order through the Registry.

A reception point in the desert works offline for hours; its device records each command
with an idempotency key and the time it happened, and later sends the whole queue in one
request. Every item is the body of a single endpoint (the schemas of ``api.schemas``),
authorised exactly as that endpoint would authorise it, and answered with what that
endpoint would have answered: its result, or its problem+json.

Who did it: the actor recorded on the events is ``<token name>@<device id>``. The token
says who, the device says on which tablet, and idempotency keys are thereby scoped to
one device of one token, so two devices numbering their keys alike cannot collide. A key
sent through sync is not the same key as one sent to a single endpoint (the actor
differs): a device should route every command it queues through sync.

One transaction per batch: the items are decided one after the other, each seeing what
the items before it did, and what was applied is saved at the end in one go. Without
``atomic`` a rejected item is left out and the others go on; with it, one rejected item
rejects the batch and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, WithJsonSchema

from campledger.api.services.auth import Principal
from campledger.api.services.catalogue import execute
from campledger.api.services.family_tracing import HouseholdSites
from campledger.api.services.problems import (
    ApiProblem,
    api_problem_body,
    domain_problem_body,
    validation_errors,
    validation_problem_body,
)
from campledger.api.services.scoping import persons_visible_to
from campledger.api.services.sync_items import COMMAND_TYPES, ITEM, AnyItem, SyncRequest
from campledger.domain.commands import Command
from campledger.domain.model import errors
from campledger.domain.service.journal import IDEMPOTENCY_KEY_MAX
from campledger.domain.service.registry import CommandResult, Registry
from campledger.domain.service.unit_of_work import StepFailed

MAX_SYNC_ITEMS = 1_000


# --- what comes back ----------------------------------------------------------------------


class Outcome(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"  # the idempotency key was seen before
    REJECTED = "rejected"
    NOT_APPLIED = "not_applied"  # an atomic batch with a rejected item: nothing was written


# What an item's result and problem hold, for the document: the answer and the problem
# of the item's own endpoint, whichever command it is. Kept as dicts at run time, so that
# each is answered exactly as that endpoint answers it (null members included).
_ANSWER = WithJsonSchema(
    {
        "type": "object",
        "description": "The answer of the item's endpoint (e.g. `registerArrival`'s): its "
        "log position, whether it was a replay, and the ids and state that endpoint returns.",
        "properties": {"position": {"type": "integer"}, "replayed": {"type": "boolean"}},
        "additionalProperties": True,
    }
)
_PROBLEM = WithJsonSchema(
    {
        "type": "object",
        "description": "The RFC 9457 problem the item's endpoint would answer.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
        "additionalProperties": True,
    }
)


class ItemResult(BaseModel):
    index: int
    idempotency_key: str | None = None
    type: str | None = None
    status: Outcome
    position: int | None = None
    result: Annotated[dict[str, Any], _ANSWER] | None = None
    problem: Annotated[dict[str, Any], _PROBLEM] | None = None


class SyncPublic(BaseModel):
    atomic: bool
    position: int = Field(description="Highest log position among the items: pass as wait_for.")
    counts: dict[Outcome, int]
    results: list[ItemResult]


@dataclass(frozen=True)
class SyncReport:
    atomic: bool
    results: list[ItemResult]

    @property
    def failed(self) -> bool:
        """An atomic batch that was refused as a whole."""
        return self.atomic and any(r.status == Outcome.REJECTED for r in self.results)

    @property
    def position(self) -> int:
        return max((r.position or 0 for r in self.results), default=0)

    def body(self) -> dict[str, Any]:
        counts = {outcome: 0 for outcome in Outcome}
        for r in self.results:
            counts[r.status] += 1
        return {
            "atomic": self.atomic,
            "position": self.position,
            "counts": counts,
            "results": [r.model_dump(mode="json", exclude_none=True) for r in self.results],
        }


# --- applying -------------------------------------------------------------------------------


class _Rejected(Exception):
    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["type"])
        self.problem = problem


def apply_batch(
    registry: Registry, principal: Principal, request: SyncRequest, households: HouseholdSites
) -> SyncReport:
    """Apply a device's queue in order and say what became of each item. ``households``
    says where households' members are, for the family-tracing rule of corrections."""
    if len(request.items) > MAX_SYNC_ITEMS:
        raise errors.BatchTooLarge(f"a sync batch holds at most {MAX_SYNC_ITEMS} commands")
    raws: list[Any] = list(request.items)  # still as sent: see SyncRequest
    if request.atomic:
        return SyncReport(True, _apply_atomically(registry, principal, raws, households))
    return SyncReport(False, _apply_each(registry, principal, raws, households))


def _apply_each(
    registry: Registry, principal: Principal, raws: list[Any], households: HouseholdSites
) -> list[ItemResult]:
    results: dict[int, ItemResult] = {}
    items: dict[int, AnyItem] = {}
    for index, raw in enumerate(raws):
        try:
            items[index] = _parse(raw)
        except _Rejected as rejected:
            results[index] = _rejected(index, raw, rejected.problem)
    commands = [_command(item) for item in items.values()]
    try:
        outcomes = registry.apply_each(
            [
                partial(_run, registry, principal, item, command, households)
                for item, command in zip(items.values(), commands, strict=True)
            ],
            keys=_keys(principal, items.values()),
            refusals=(_Rejected,),
            commands=[None if isinstance(c, Exception) else c for c in commands],
        )
    except StepFailed as failure:
        raise failure.error from failure
    for (index, item), outcome in zip(items.items(), outcomes, strict=True):
        if isinstance(outcome, _Rejected):
            results[index] = _rejected(index, raws[index], outcome.problem)
        elif isinstance(outcome, CommandResult):
            results[index] = _done(index, item, outcome)
        else:
            raise outcome
    return [results[index] for index in range(len(raws))]


def _apply_atomically(
    registry: Registry, principal: Principal, raws: list[Any], households: HouseholdSites
) -> list[ItemResult]:
    items: list[AnyItem] = []
    for index, raw in enumerate(raws):
        try:
            items.append(_parse(raw))
        except _Rejected as rejected:
            return _refused(raws, index, rejected.problem)

    commands = [_command(item) for item in items]
    try:
        results = registry.apply_together(
            [
                partial(_run, registry, principal, item, command, households)
                for item, command in zip(items, commands, strict=True)
            ],
            keys=_keys(principal, items),
            commands=[None if isinstance(c, Exception) else c for c in commands],
        )
    except StepFailed as failure:
        if not isinstance(failure.error, _Rejected):
            raise failure.error from failure
        return _refused(raws, failure.index, failure.error.problem)
    pairs = zip(items, results, strict=True)
    return [_done(index, item, result) for index, (item, result) in enumerate(pairs)]


def _parse(raw: Any) -> AnyItem:
    try:
        return ITEM.validate_python(raw)
    except ValidationError as invalid:
        found = validation_errors(invalid.errors(include_input=False))
        tag = raw.get("type") if isinstance(raw, dict) else None
        for error in found:
            # A tagged union puts the tag first in the path; the item's own fields follow.
            if error["loc"][:1] == [tag]:
                error["loc"] = error["loc"][1:]
        raise _Rejected(validation_problem_body(found)) from None


def _command(item: AnyItem) -> Command | Exception:
    """The item's command, made once: the unit of work reads what every command will look
    up before the first is decided, and the item's step then runs it. An item whose command
    cannot be made is refused when its turn comes, as it always was."""
    try:
        return item.command()
    except Exception as error:  # raised again by the item's own step, in its turn
        return error


def _actor(principal: Principal, item: AnyItem) -> str:
    return f"{principal.actor}@{item.device_id}"


def _keys(principal: Principal, items: Iterable[AnyItem]) -> list[tuple[str, str]]:
    return [(_actor(principal, item), item.idempotency_key) for item in items]


def _run(
    registry: Registry,
    principal: Principal,
    item: AnyItem,
    command: Command | Exception,
    households: HouseholdSites,
) -> CommandResult:
    """The single endpoint, minus HTTP: authorise, then the one command, as this device."""
    try:
        if isinstance(command, Exception):
            raise command
        return execute(
            principal, command, registry, idempotency_key=item.idempotency_key,
            households=households, actor=_actor(principal, item),
        )  # fmt: skip
    except errors.DomainError as error:
        problem = domain_problem_body(error, may_see_person=persons_visible_to(principal, registry))
        raise _Rejected(problem) from error
    except ApiProblem as problem:
        raise _Rejected(api_problem_body(problem)) from problem


def _done(index: int, item: AnyItem, result: CommandResult) -> ItemResult:
    return ItemResult(
        index=index,
        idempotency_key=item.idempotency_key,
        type=item.type,
        status=Outcome.ALREADY_APPLIED if result.replayed else Outcome.APPLIED,
        position=result.position,
        result=result.result,
    )


def _rejected(index: int, raw: Any, problem: dict[str, Any]) -> ItemResult:
    key, kind = _named(raw)
    return ItemResult(
        index=index, idempotency_key=key, type=kind, status=Outcome.REJECTED, problem=problem
    )


def _refused(raws: Sequence[Any], failed: int, problem: dict[str, Any]) -> list[ItemResult]:
    """An atomic batch with one bad item: that one is rejected, no other was applied."""
    results: list[ItemResult] = []
    for index, raw in enumerate(raws):
        if index == failed:
            results.append(_rejected(index, raw, problem))
            continue
        key, kind = _named(raw)
        results.append(
            ItemResult(index=index, idempotency_key=key, type=kind, status=Outcome.NOT_APPLIED)
        )
    return results


def _named(raw: Any) -> tuple[str | None, str | None]:
    """The key and type of an item as sent, even a malformed one, to let the device match it."""
    if not isinstance(raw, dict):
        return None, None
    key, kind = raw.get("idempotency_key"), raw.get("type")
    return (
        key if isinstance(key, str) and len(key) <= IDEMPOTENCY_KEY_MAX else None,
        kind if isinstance(kind, str) and kind in COMMAND_TYPES else None,
    )
