"""The screening queue: who at a site has not had a screening step yet, narrowed by sex
and age band (the men's security interviews are one list), and who is held there, to be
released; and for each person the forms that record a step and release a hold
(``screening_forms.py``).

It is a queue of work, so it is a screener's page (``screening:write``), not a reader's.
People are read through ``api/services/rosters.py`` and ``persons_read.py``, as the roster
and the person page read them: the same site scope, names only for roles that may see
them, and each name shown put on the access trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from campledger.api.console.forms import Problem, may_send, new_form_key, require
from campledger.api.console.person_words import WORDS
from campledger.api.console.reading import (
    CONSOLE,
    query_string,
    read_connection,
    refusals,
    registry,
)
from campledger.api.console.rendering import render
from campledger.api.console.screening_words import DONE, OUTCOME_NAMES, STEP_NAMES
from campledger.api.services.auth import Permission
from campledger.api.services.persons_read import read_person
from campledger.api.services.rosters import RosterQuery, known_site, read_roster
from campledger.api.services.scoping import within
from campledger.domain.commands import RecordScreeningStep, ReleasePerson
from campledger.domain.model.values import AGE_BANDS, PersonStatus, ScreeningStep, Sex
from campledger.projections import occupancy

router = APIRouter()

QUEUE_PATH = "/screening"
PERSON_PATH = "/screening/persons/{person_id}"
PAGE_SIZE = 100
BANDS = [name for name, _, _ in AGE_BANDS]


@dataclass(frozen=True)
class Queue:
    """Which queue a screener works through, as its URL carries it: the site, the step,
    the sex and age band, and whether it lists those waiting or those held."""

    site: str = ""
    step: str = ScreeningStep.IDENTITY.value
    sex: str = ""
    age_band: str = ""
    held: str = ""

    @classmethod
    def of(cls, given: Mapping[str, str]) -> Queue:
        values = {f.name: given.get(f.name, "").strip() for f in fields(cls)}
        return cls(**{name: value for name, value in values.items() if value})

    @classmethod
    def carried(cls, link: str) -> Queue:
        """The queue a form came from (its ``queue`` field: this queue's ``link``)."""
        return cls.of(dict(parse_qsl(link)))

    @property
    def holds(self) -> bool:
        return self.held == "1"

    def query(self, cursor: str | None) -> RosterQuery:
        # Waiting: present and not yet through the step. Held: everyone held, whatever
        # steps they have had, for release (a hold usually follows the step itself).
        return RosterQuery(
            status=PersonStatus.HELD if self.holds else PersonStatus.PRESENT,
            sex=self.sex or None,
            age_band=self.age_band or None,
            without_step=None if self.holds else self.step,
            cursor=cursor,
            limit=PAGE_SIZE,
        )

    def link(self, **changed: str | None) -> str:
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changed
        return query_string(values)


@router.get(QUEUE_PATH)
def screening_queue(request: Request, cursor: str | None = None, done: str = "") -> Response:
    reader = require(request, RecordScreeningStep)
    queue = Queue.of(request.query_params)
    with read_connection(request) as conn, refusals():
        sites = occupancy.sites_page(conn, within=within(reader), limit=1000).rows
        if not queue.site and len(sites) == 1:
            queue = replace(queue, site=sites[0]["code"])
        site, read = None, None
        if queue.site:
            read = read_roster(conn, reader, queue.site, queue.query(cursor), CONSOLE + QUEUE_PATH)
            site = known_site(conn, queue.site)
    rows = read.page.rows if read else []
    next_cursor = read.page.next_cursor if read else None
    return render(
        request, "screening.html",
        queue=queue, site=site, sites=sites, rows=rows, personal=bool(read and read.personal),
        next_link=queue.link(cursor=next_cursor) if next_cursor else None,
        done=DONE.get(done), keys=[new_form_key() for _ in rows], steps=STEP_NAMES,
        sexes=list(Sex), bands=BANDS, **WORDS,
    )  # fmt: skip


@router.get(PERSON_PATH)
def screening_person(request: Request, person_id: UUID) -> Response:
    return person_page(request, person_id, Queue.of(request.query_params), {}, [])


def person_page(
    request: Request,
    person_id: UUID,
    queue: Queue,
    sent: dict[str, str],
    problems: list[Problem],
    *,
    status_code: int = 200,
) -> Response:
    """One person's screening: the steps they have had, the form to record one and, while
    they are held, the form to release them; drawn again with what was sent when refused."""
    reader = require(request, RecordScreeningStep)
    with read_connection(request) as conn, refusals():
        person = read_person(conn, registry(request), reader, person_id, CONSOLE + PERSON_PATH)
    if not queue.site and person.get("site_code"):
        queue = replace(queue, site=person["site_code"])
    return render(
        request, "screening_person.html", status_code,
        person=person, queue=queue, sent=sent, problems=problems,
        personal=reader.can(Permission.PERSONAL_DATA),
        on_site=person["status"] in (PersonStatus.PRESENT, PersonStatus.HELD),
        may_release=may_send(request, ReleasePerson),
        step_key=sent.get("form_key") if sent.get("form") == "step" else new_form_key(),
        release_key=sent.get("form_key") if sent.get("form") == "release" else new_form_key(),
        steps=STEP_NAMES, outcomes=OUTCOME_NAMES, **WORDS,
    )  # fmt: skip


def queue_path(queue: Queue, **changed: Any) -> str:
    return f"{QUEUE_PATH}?{queue.link(**changed)}"
