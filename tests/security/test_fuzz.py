"""Generated requests against the running server: every check of schemathesis passes.

Schemathesis reads the server's own ``/openapi.json`` and generates requests for every
operation, valid and invalid, with an admin token (so authorisation never hides a path).
Path parameters are now and then swapped for a site, person, transfer or household that
exists, so the handlers behind the 404s are reached too. Every check runs (as
``--checks all`` in the CLI): no server error; status, content type, headers and body as
documented; a request the schema calls valid is accepted (2xx, or 401/403/404/409/429),
one it calls invalid refused. So the document states every rule the server enforces on a
single value: cursor formats, RFC 3339 date-times, If-Match, text the database can store.

What no document can state is told to the generator in tests/security/fuzz_hooks.py
(the same hooks serve the long CLI run, tests/security/schemathesis.toml): rules that
depend on the server's state (a ``wait_for`` beyond the head, a cursor the server never
minted, an atomic sync batch with an item about an unknown person) or on two values at
once (flows ending before they start, a duplicate pair of one record with itself).

One check cannot apply to one operation, by design: ``negative_data_rejection`` on
``POST /sync``. A device's queue whose items break the published schema is answered 200,
each such item rejected alone with its problem (docs/sync.md), so that one malformed
command does not hold back the rest of a device's queue; the items' schema is published
all the same (a discriminated union of the real command bodies) for devices to build
them. The checks that need state or credentials to compare (``use_after_free``,
``ensure_resource_availability``, ``ignored_auth``, ``object_level_authorization``) run
too: they find nothing to compare in single generated requests, and the CLI's stateful
phase exercises them.

Schemathesis' own pytest loader (``from_fixture``) does not run on pytest 9, so each
operation's Hypothesis test is built here from ``APIOperation.as_strategy`` and run as a
subtest: one failing operation does not hide the others.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

import tests.security.fuzz_hooks  # noqa: F401  (registers the hooks the generator needs)
from tests.reliability.support import Figures
from tests.security.conftest import Running
from tests.security.support import fuzz_examples, fuzz_only

load_all_checks()
CHECKS = REGISTRY.get_all()
# Operation by operation, the checks that cannot apply to it (see the docstring).
NOT_APPLICABLE = {
    "/sync": [negative_data_rejection],
    "/imports": [positive_data_acceptance],
    "/corrections": [positive_data_acceptance],
}
EXAMPLES = fuzz_examples(15)


def real_values(running: Running) -> dict[str, list[str]]:
    world = running.world
    return {
        "code": world.sites,
        "person_id": [str(p) for p in world.persons],
        "transfer_id": [str(t) for t in world.transfers],
        "household_id": world.households,
    }


def fuzz_operation(operation: Any, running: Running, tried: Counter[int]) -> None:
    known = real_values(running)
    head = running.head()
    auth = {"Authorization": f"Bearer {running.token.secret}"}
    excluded = [
        check
        for path, checks in NOT_APPLICABLE.items()
        if operation.path.endswith(path)
        for check in checks
    ]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy, real=st.booleans(), pick=st.integers(min_value=0, max_value=99))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, real: bool, pick: int) -> None:
        waits = (case.query or {}).get("wait_for")
        if isinstance(waits, int) and waits > head:
            # A position beyond the head is refused at once (422, tested in tests/api),
            # but generated ones would mostly be that: keep them reachable.
            case.query["wait_for"] = head
        if real and case.path_parameters:
            for name, values in known.items():
                if name in case.path_parameters and values:
                    case.path_parameters[name] = values[pick % len(values)]
        response = case.call_and_validate(
            base_url=running.server.base_url,
            headers=auth,
            checks=CHECKS,
            excluded_checks=excluded,
            timeout=30,
        )
        tried[response.status_code] += 1

    run()


def test_every_generated_request_gets_a_documented_answer(
    running: Running, figures: Figures, subtests: pytest.Subtests
) -> None:
    schema = schemathesis.openapi.from_url(running.server.base_url + "/openapi.json")
    # Every request carries the admin token (above): a generated case must not count the
    # document's bearer scheme as a header it left out (schemathesis would call a request
    # with the token "missing" invalid, and its 200 a failure). Requests without a token
    # are tests/api's (test_openapi_clients.py, test_errors.py).
    schema.config.generation.update(with_security_parameters=False)
    only = fuzz_only()
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if only is None or only.search(operation.label)
    ]
    tried: Counter[int] = Counter()
    failed: list[str] = []
    for operation in operations:
        with subtests.test(msg=operation.label):
            try:
                fuzz_operation(operation, running, tried)
            except BaseException:
                failed.append(operation.label)
                raise
    figures.record(
        "fuzzing the running server",
        cases_tried=sum(tried.values()),
        operations=len(operations),
        examples_per_operation=EXAMPLES,
        answers=" ".join(f"{status}×{n}" for status, n in sorted(tried.items())),
    )
    assert not failed, f"operations with undocumented answers or server errors: {failed}"
