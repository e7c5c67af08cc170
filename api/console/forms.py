"""Forms that write: each sends one command through the catalogue, as the API and offline
sync do (``api/services/catalogue.py``): the same permission and site-scope rules, the same
domain rules and refusals, and the signed-in account's name as the actor on the events.

A form carries a key of its own, made when the page was drawn (``form_key``): it is the
command's idempotency key, so a double click or a form sent again after a slow answer
replays the first result and writes nothing twice. A refused command stores nothing under
its key, so the same form, corrected, can be sent again.

What the person typed is checked here only for what the browser sends as text (a number
that is not one, a required field left empty); every rule about what may be recorded is
the domain's, and its refusal is shown next to the field it concerns, in the reader's
language.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from campledger.api.console.i18n import N_
from campledger.api.console.reading import principal, registry
from campledger.api.console.refusal_words import REFUSAL_NAMES
from campledger.api.console.session import NotAllowed, console
from campledger.api.services import gazetteer
from campledger.api.services.auth import Principal
from campledger.api.services.catalogue import execute, permission_of
from campledger.api.services.family_tracing import households_in
from campledger.api.services.problems import ApiProblem
from campledger.api.services.waiting import TooManyWaiters
from campledger.domain import commands
from campledger.domain.commands import Command
from campledger.domain.model import errors
from campledger.domain.service.registry import CommandResult

# How long a form's answer waits for the read models to show what it wrote, so that the
# page it leads to shows it too (the projector usually takes milliseconds).
SETTLE_SECONDS = 2.0
# What a form may send in one field: far more than any field of any command takes.
FIELD_LIMIT = 2000
FORM_KEY = "form_key"
# What a form route's parameters are: a field of text, bounded; the drawn form's key.
Text = Annotated[str, Form(max_length=FIELD_LIMIT)]
Key = Annotated[str, Form(alias=FORM_KEY, max_length=64)]
_FORM_KEY = re.compile(r"^[0-9a-f]{32}$")
# What a field is read into (a whole number, a decimal, a date).
T = TypeVar("T")


def new_form_key() -> str:
    return uuid.uuid4().hex


def may_send(request: Request, command: type[Command]) -> bool:
    """Whether the signed-in account's role may send this command at all (its sites are
    checked when it is sent): the console offers only the forms a role may use."""
    return principal(request).can(permission_of(command))


def require(request: Request, command: type[Command]) -> Principal:
    """The signed-in account, refused (403) unless its role may send this command."""
    if not may_send(request, command):
        raise NotAllowed()
    return principal(request)


@dataclass(frozen=True)
class Problem:
    """Why a form was refused: a message of the catalogue with its values, and the field
    it concerns (None: the form as a whole)."""

    message: str
    field: str | None = None
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # The domain's own words, shown where the catalogue has none for this refusal.
    detail: str = ""
    # The domain's code and what it names (a person's id...), so that a form can say
    # which of the many it sent was refused, in the words its reader typed (a number).
    code: str = ""
    about: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class FormRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("form refused")
        self.problems = problems


@dataclass
class Fields:
    """A form's fields as sent, read one by one into the values a command takes; each
    value that cannot be read leaves a problem next to its field instead."""

    sent: Mapping[str, str]
    problems: list[Problem] = field(default_factory=list)

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.sent.get(name, "").strip()
        if required and not value:
            self.problems.append(Problem(MISSING, name))
        return value

    def optional(self, name: str) -> str | None:
        return self.text(name, required=False) or None

    def whole_number(self, name: str, *, required: bool = True) -> int | None:
        return self._read(name, int, NOT_A_WHOLE_NUMBER, required=required)

    def decimal(self, name: str) -> float | None:
        return self._read(name, float, NOT_A_NUMBER, required=False)

    def day(self, name: str) -> date | None:
        return self._read(name, date.fromisoformat, NOT_A_DATE, required=False)

    def _read(
        self, name: str, convert: Callable[[str], T], unreadable: str, *, required: bool
    ) -> T | None:
        """The field's text as ``convert`` reads it, or None: when it was left empty (a
        problem only if it is required) or when ``convert`` cannot read it (the problem
        ``unreadable`` says what the field wants instead)."""
        value = self.text(name, required=required)
        if not value:
            return None
        try:
            return convert(value)
        except ValueError:
            self.problems.append(Problem(unreadable, name))
            return None

    def check(self) -> None:
        if self.problems:
            raise FormRefused(self.problems)


MISSING = N_("Fill in this field.")
NOT_A_WHOLE_NUMBER = N_("Enter a whole number.")
NOT_A_NUMBER = N_("Enter a number, with a point for decimals.")
NOT_A_DATE = N_("Enter a date as year-month-day, e.g. 2025-06-30.")


def form_key(sent: Mapping[str, str]) -> str:
    """The key the page drew into its form; anything else is not a form of ours (400)."""
    key = sent.get(FORM_KEY, "")
    if not _FORM_KEY.match(key):
        raise HTTPException(400)
    return key


def send(
    request: Request, command: Command, key: str, fields: Mapping[str, str] | None = None
) -> CommandResult:
    """Send the command as the signed-in account, under the form's key. A refusal by a
    rule becomes the form's problem, next to the field ``fields`` names for it (by the
    error's code, or by the first words of the domain's message); a refusal by role or
    site is the 403 page."""
    tracing = isinstance(command, commands.CorrectDetail)
    households = households_in(console(request).pool) if tracing else None
    # An account acts under its own name: the actor on the events is the person signed in.
    with _refusals(fields or {}):
        return execute(
            principal(request), command, registry(request), idempotency_key=key,
            households=households,
            site_areas=partial(gazetteer.check_in_pool, console(request).pool),
        )  # fmt: skip


async def submit(
    request: Request, command: Command, key: str, fields: Mapping[str, str] | None = None
) -> CommandResult:
    """``send``, off the event loop, then wait (without holding a thread or a connection)
    until the read models have applied the write."""
    result = await run_in_threadpool(send, request, command, key, fields)
    watch = getattr(console(request).host, "watch", None)
    if watch is not None:
        # A page that shows the write a moment late is better than a refused form.
        with suppress(TooManyWaiters, RuntimeError):
            await watch.wait(result.position, principal(request).token_id, SETTLE_SECONDS)
    return result


def sent_form(request: Request, command: type[Command], sent: Mapping[str, str]) -> Fields:
    """The fields of a form that sends ``command``, past the two refusals that come before
    any field is read: a role that may not send it (403), a form whose key no page of ours
    drew (400)."""
    require(request, command)
    form_key(sent)
    return Fields(sent)


async def submit_fields(
    request: Request, command: Command, fields: Fields, where: Mapping[str, str] | None = None
) -> CommandResult:
    """``submit`` the command read from a form's fields, under the form's key. A field
    that could not be read refuses the form first, with every such problem at once;
    ``where`` places the domain's refusals, as for ``send``."""
    fields.check()
    return await submit(request, command, form_key(fields.sent), where)


@contextmanager
def _refusals(fields: Mapping[str, str]) -> Iterator[None]:
    try:
        yield
    except ApiProblem as problem:
        # A refusal of what was typed, though the API answers it 403 (a household that
        # reaches beyond one's sites), is shown next to the field the form names for it.
        where, known = fields.get(problem.code), REFUSAL_NAMES.get(problem.code)
        if where is not None and known is not None:
            raise FormRefused([Problem(known, where, detail=problem.detail)]) from None
        if problem.status in (403, 404):
            raise HTTPException(problem.status) from None
        raise FormRefused([Problem(GENERIC, detail=problem.detail or "")]) from None
    except errors.DomainError as error:
        raise FormRefused([_problem(error, fields)]) from None


GENERIC = N_("This was refused: %(detail)s")


def _problem(error: errors.DomainError, fields: Mapping[str, str]) -> Problem:
    message = error.message
    where = fields.get(error.code) or next(
        (name for word, name in fields.items() if message.startswith(word)), None
    )
    known, about = REFUSAL_NAMES.get(error.code), error.details
    if known is not None:
        return Problem(known, where, detail=message, code=error.code, about=about)
    return Problem(GENERIC, where, {"detail": message}, message, error.code, about)
