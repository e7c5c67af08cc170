"""Every topic an earlier release stored still names the same class.

A stored event names its class by topic; the log is immutable, so each topic ever written
must resolve for as long as the log lives. These are the topics of every event and
aggregate class before the product was installed as ``campledger`` (read off that release).
"""

from __future__ import annotations

import pytest
from eventsourcing.utils import get_topic, resolve_topic

import campledger.domain.persistence.codec  # noqa: F401  (registers the moved modules)

STORED_BEFORE = [
    "domain.duplicates:DuplicatePair",
    "domain.duplicates:DuplicatePair.Created",
    "domain.duplicates:DuplicatePair.Dismissed",
    "domain.duplicates:DuplicatePair.Event",
    "domain.person:Person",
    "domain.person:Person.Created",
    "domain.person:Person.Departed",
    "domain.person:Person.DetailCorrected",
    "domain.person:Person.DuplicateMerged",
    "domain.person:Person.Event",
    "domain.person:Person.Held",
    "domain.person:Person.MarkedUnaccountedFor",
    "domain.person:Person.MergedInto",
    "domain.person:Person.PlacedOnManifest",
    "domain.person:Person.Registered",
    "domain.person:Person.Released",
    "domain.person:Person.RemovedFromManifest",
    "domain.person:Person.ScreeningStepRecorded",
    "domain.person:Person.TransferDispatched",
    "domain.person:Person.TransferReceived",
    "domain.site:Site",
    "domain.site:Site.CapacityChanged",
    "domain.site:Site.Closed",
    "domain.site:Site.Created",
    "domain.site:Site.Event",
    "domain.site:Site.Opened",
    "domain.transfer:Transfer",
    "domain.transfer:Transfer.Cancelled",
    "domain.transfer:Transfer.Created",
    "domain.transfer:Transfer.Dispatched",
    "domain.transfer:Transfer.Event",
    "domain.transfer:Transfer.Planned",
    "domain.transfer:Transfer.Received",
    "domain.transfer:Transfer.Reconciled",
]


@pytest.mark.parametrize("topic", STORED_BEFORE)
def test_a_topic_stored_before_resolves_to_the_same_class(topic: str) -> None:
    module, _, qualname = topic.partition(":")
    found = resolve_topic(topic)
    assert found.__qualname__ == qualname
    # Today's name for it: same class, same place, only under the product's name.
    assert (
        get_topic(found) == f"campledger.domain.model.{module.removeprefix('domain.')}:{qualname}"
    )
