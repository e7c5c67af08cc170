"""The records a command's handler reads (``commands.base.Records``): aggregates as stored
or as the commands before it in a unit of work left them, and the journal's claims.

The ``Registry`` is one of these; its handlers are given it to read through.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol, TypeVar, cast, runtime_checkable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from campledger.domain.model import errors
from campledger.domain.model.person import Person
from campledger.domain.model.site import Site, site_id
from campledger.domain.model.transfer import Transfer
from campledger.domain.persistence.personal_data import KeyRing
from campledger.domain.service.claims import duplicate_error
from campledger.domain.service.journal import CommandJournal, UniqueClaim
from campledger.domain.service.unit_of_work import active_unit

A = TypeVar("A", bound=Aggregate)


@runtime_checkable
class ManyRecords(Protocol):
    """A recorder that reads the events of many records in one query."""

    def select_events_of(self, ids: Collection[UUID]) -> Mapping[UUID, list[StoredEvent]]: ...


class StoredRecords(Application[UUID]):
    """An application whose stored records commands read (the ``Registry``)."""

    @property
    def journal(self) -> CommandJournal:
        journal = cast(CommandJournal, self.recorder)
        unit = active_unit(self)
        return journal if unit is None else unit

    def _get(self, cls: type[A], aggregate_id: UUID, not_found: errors.DomainError) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise not_found from None
        if not isinstance(aggregate, cls):
            raise not_found
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        unit = active_unit(self)
        known = None if unit is None else unit.knows(aggregate_id)
        return aggregate_id in self.repository if known is None else known

    def get_site(self, code: str) -> Site:
        return self._get(Site, site_id(code), errors.SiteNotFound(f"no site with code {code}"))

    def get_open_site(self, code: str) -> Site:
        site = self.get_site(code)
        site.check_open()
        return site

    def load_many(self, ids: Collection[UUID]) -> dict[UUID, Aggregate | None]:
        """Records by id, read from the log in one query: None for an id no record has; an
        id whose record could not be read is left out, for whoever needs it to meet the
        error itself. Empty where the recorder cannot read many at once."""
        recorder = self.recorder
        if not isinstance(recorder, ManyRecords) or self.repository.snapshot_store is not None:
            return {}
        stored = recorder.select_events_of(ids)
        key_ring: KeyRing | None = getattr(self.mapper, "key_ring", None)
        if key_ring is not None:  # the persons' keys, in one query too
            key_ring.prefetch(stored)
        found: dict[UUID, Aggregate | None] = dict.fromkeys(ids)
        for aggregate_id, events in stored.items():
            try:
                aggregate = project_aggregate(None, map(self.mapper.to_domain_event, events))
            except Exception:  # left to the command that reads it: it fails as it always did
                del found[aggregate_id]
                continue
            found[aggregate_id] = aggregate
        return found

    def get_person(self, person_id: UUID) -> Person:
        return self._get(Person, person_id, errors.PersonNotFound(f"no person with id {person_id}"))

    def get_transfer(self, transfer_id: UUID) -> Transfer:
        return self._get(
            Transfer, transfer_id, errors.TransferNotFound(f"no transfer with id {transfer_id}")
        )

    def person_at_version(self, person_id: UUID, expected_version: int | None) -> Person:
        person = self.get_person(person_id)
        if expected_version is not None and person.version != expected_version:
            raise errors.VersionMismatch(
                f"person {person_id} has changed since version {expected_version}",
                person=str(person_id),
                version=person.version,
            )
        return person

    def claimed_by_others(
        self, claims: Iterable[UniqueClaim]
    ) -> list[tuple[UniqueClaim, errors.DomainError]]:
        found: list[tuple[UniqueClaim, errors.DomainError]] = []
        for claim in claims:
            owner = self.journal.find_claim(claim.scope, claim.value)
            if owner is not None and owner != claim.owner_id:
                found.append((claim, duplicate_error(claim.scope, self.survivor_of(owner))))
        return found

    def refuse_claims_of_others(self, claims: Iterable[UniqueClaim]) -> None:
        """Raise the refusal of the first value another person holds. In a unit of work,
        at once: the store would refuse the unit's save whole, and each command must meet
        its own refusal. A command saved alone leaves it to the store, which refuses the
        save in its own transaction, and ``Registry`` then names the holder: looking first
        cost a round trip per value on every registration, for a refusal that is rare."""
        if active_unit(self) is None:
            return
        for _claim, error in self.claimed_by_others(claims):
            raise error

    def survivor_of(self, person_id: UUID) -> UUID:
        """The record that stands for this person now: itself, or the record it was merged
        into. A merged record keeps its claims, so the holder of a value may be one."""
        for _ in range(100):  # merges form chains, never cycles; the bound is a guard only
            try:
                found: Aggregate = self.repository.get(person_id)
            except AggregateNotFoundError:
                return person_id
            survivor = getattr(found, "merged_into", None)
            if not isinstance(found, Person) or survivor is None:
                return person_id
            person_id = survivor
        return person_id
