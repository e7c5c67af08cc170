"""Where the classes named by topics that earlier releases stored live now.

A stored event names its class by topic (``module:Class.Event``), and an aggregate's
creation event and snapshots name the aggregate's class the same way. Releases before
the product was installed as ``campledger`` wrote ``domain.person:Person.Registered``;
the log is immutable, so each old module name is registered with the library to resolve
to the module that holds those classes today.
"""

from __future__ import annotations

from types import ModuleType

from eventsourcing.utils import register_topic

from campledger.domain.model import duplicates, person, site, transfer

MOVED_MODULES: dict[str, ModuleType] = {
    "domain.duplicates": duplicates,
    "domain.person": person,
    "domain.site": site,
    "domain.transfer": transfer,
}


def register_moved_modules() -> None:
    for old_name, module in MOVED_MODULES.items():
        register_topic(old_name, module)
