"""Every JSON request body in the OpenAPI document comes with an example a person can send
as it is: valid against the published schema, and not refused by the server as malformed
(an example names made-up persons and sites, so the server may answer that they are
unknown, never that the body is wrong).
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs

from campledger.api.schemas.examples import PERSON, TRANSFER
from tests.api.conftest import Api

PATH_VALUES = {"code": "RC-ADRE", "person_id": PERSON, "transfer_id": TRANSFER}
# What a malformed body is answered with (api/services/problems.py); anything else (unknown
# person, closed site, rule refused) is about the world, not about the body.
MALFORMED = ("invalid-request", "unstorable-value", "malformed-request")


def bodies(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, component) of every operation that takes a JSON body."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                ref = content["application/json"]["schema"]["$ref"]
                found.append((method, path, ref.rsplit("/", 1)[1]))
    return found


def test_every_json_body_has_an_example_its_schema_accepts(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    missing, invalid = [], []
    for method, path, component in bodies(document):
        examples = document["components"]["schemas"][component].get("examples")
        if not examples:
            missing.append(f"{method} {path} ({component})")
            continue
        schema = {
            "$ref": f"#/components/schemas/{component}",
            "components": document["components"],
        }
        validator = jsonschema_rs.Draft202012Validator(schema)
        for example in examples:
            invalid += [f"{component}: {error}" for error in validator.iter_errors(example)]
    assert bodies(document), "the document declares no JSON body"
    assert missing == []
    assert invalid == []


def test_the_server_takes_every_example_as_a_well_formed_body(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    refused = []
    for method, path, component in bodies(document):
        url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
        for example in document["components"]["schemas"][component]["examples"]:
            response = api.client.request(method, url, json=example, headers=api.auth("admin"))
            problem = response.json().get("type", "") if response.status_code >= 400 else ""
            if problem.rsplit("/", 1)[-1] in MALFORMED or response.status_code >= 500:
                refused.append((method, path, response.status_code, response.text[:300]))
    assert refused == []
