"""What the demo's field staff do, through the Registry's own commands: register a
truckload at the reception point, move people between sites, screen them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from campledger.api.services.demo_people import DemoPerson, Population
from campledger.domain.commands import MAX_BATCH
from campledger.domain.model.transfer import MAX_MANIFEST
from campledger.domain.service.registry import Registry

T = TypeVar("T")

# Who orders holds at the screening centre (Adré is in Ouaddaï province).
HOLD_AUTHORITY = "Governor of Ouaddaï"
# Days until a hold is reviewed; the first hold of the demo got a short one and is overdue.
REVIEW_DAYS = 14


@dataclass
class Loader:
    registry: Registry
    people: Population
    # The log position of the last command, for the summary.
    position: int = 0
    holds: int = 0

    def track(self, position: int) -> None:
        self.position = max(self.position, position)

    def register_truck(self, truck: int, size: int, arrived: datetime) -> list[DemoPerson]:
        first = len(self.people.persons)
        arrivals = self.people.truckload(truck, size, arrived)
        for chunk in _chunks(arrivals, MAX_BATCH):
            result = self.registry.register_arrivals(
                site_code=self.people.reception, arrivals=chunk, actor="reception-officer-1"
            )
            self.track(result.position)
        return self.people.persons[first:]

    def transfer(
        self,
        persons: Sequence[DemoPerson],
        origin: str,
        destination: str,
        planned: datetime,
        *,
        missing: int = 0,
    ) -> list[DemoPerson]:
        """Plan, dispatch and receive; ``missing`` persons never check in (reconciled later)."""
        lost: list[DemoPerson] = []
        for chunk in _chunks(list(persons), MAX_MANIFEST):
            manifest = [p.id for p in chunk]
            r = self.registry.plan_transfer(
                origin=origin,
                destination=destination,
                manifest=manifest,
                vehicle=f"TRUCK-{self.people.rng.randint(100, 999)}",
                order_reference=f"MOV-{planned:%m%d}-{destination}",
                occurred_at=planned,
                actor="site-manager-1",
            )
            transfer_id = UUID(r.result["transfer_id"])
            self.registry.dispatch_transfer(
                transfer_id=transfer_id,
                occurred_at=planned + timedelta(minutes=30),
                actor="site-manager-1",
            )
            arrived, gone = chunk[missing:], chunk[:missing]
            missing -= len(gone)
            r = self.registry.receive_transfer(
                transfer_id=transfer_id,
                site_code=destination,
                persons=[p.id for p in arrived],
                occurred_at=planned + timedelta(hours=4),
                actor="camp-registrar-1",
            )
            self.track(r.position)
            if gone:
                r = self.registry.reconcile_transfer(
                    transfer_id=transfer_id,
                    occurred_at=planned + timedelta(hours=8),
                    actor="site-manager-1",
                )
                self.track(r.position)
                lost.extend(gone)
            for p in arrived:
                p.site = destination
        return lost

    def screen(self, persons: Sequence[DemoPerson], start: datetime) -> list[DemoPerson]:
        """Screen a truckload at the screening centre; returns who was referred to hospital."""
        referred: list[DemoPerson] = []
        registry = self.registry
        for index, p in enumerate(persons):
            when = start + timedelta(seconds=15 * index)
            registry.record_screening_step(
                person_id=p.id,
                step="identity",
                outcome="cleared",
                occurred_at=when,
                actor="screening-officer-1",
            )
            if p.needs:
                # Acute malnutrition, wounds and critical conditions go on to hospital.
                serious = {"SM-MN", "SM-OT", "SM-CC"} & set(p.needs)
                outcome = "referred" if serious else "cleared"
                registry.record_screening_step(
                    person_id=p.id,
                    step="medical",
                    outcome=outcome,
                    occurred_at=when + timedelta(hours=2),
                    reason="triage",
                    actor="medical-officer-1",
                )
                if serious and len(referred) < 3:
                    referred.append(p)
            if p.age >= 18 and p.sex == "male" and self.people.rng.random() < 0.04:
                held_at = when + timedelta(hours=3)
                review = REVIEW_DAYS if self.holds else 2
                self.holds += 1
                r = registry.record_screening_step(
                    person_id=p.id,
                    step="security",
                    outcome="held",
                    occurred_at=held_at,
                    reason="further interview needed",
                    actor="security-officer-1",
                    authority=HOLD_AUTHORITY,
                    order_reference=f"GOV-OUA-{held_at:%Y}-{self.holds:04d}",
                    review_date=(held_at + timedelta(days=review)).date(),
                )
                self.track(r.position)
                p.held = True
        return referred


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
