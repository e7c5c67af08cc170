"""Generated requests against the running server: no 5xx, and every answer as documented.

Schemathesis reads the server's own ``/openapi.json`` and generates requests for every
operation, valid and invalid, with an admin token (so authorisation never hides a path).
Path parameters are now and then swapped for a site, person, transfer or household that
exists, so the handlers behind the 404s are reached too. Each answer must not be a server
error, and its status, content type and body must be the ones the document promises.

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
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.support import Figures
from tests.security.conftest import Running
from tests.security.support import fuzz_examples, fuzz_only

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
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
            # A position never reached is answered 503 after 5 s, by design (tested in
            # tests/api): here it would only slow the run down.
            case.query["wait_for"] = head
        if real and case.path_parameters:
            for name, values in known.items():
                if name in case.path_parameters and values:
                    case.path_parameters[name] = values[pick % len(values)]
        response = case.call_and_validate(
            base_url=running.server.base_url, headers=auth, checks=CHECKS, timeout=30
        )
        tried[response.status_code] += 1

    run()


def test_every_generated_request_gets_a_documented_answer(
    running: Running, figures: Figures, subtests: pytest.Subtests
) -> None:
    schema = schemathesis.openapi.from_url(running.server.base_url + "/openapi.json")
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
