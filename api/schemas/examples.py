"""One realistic example per request body, for the OpenAPI document (Swagger UI's "Try it
out", a partner reading the document): field data as a reception desk types it. Every
name, number and place is made up; tests/api/test_body_examples.py checks each example is
a body the schema accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict

# Ids an example refers to: made-up persons and a transfer.
PERSON = "3f1c2a9e-8b7d-4c1e-9a0f-5d6e7f8a9b01"
OTHER_PERSON = "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c02"
TRANSFER = "c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e03"
FIELD_TIME = "2025-06-01T07:45:00+01:00"

ARRIVAL: dict[str, Any] = {
    "registration_number": "ADR-2025-000123",
    "given_name": "حليمة",
    "family_name": "عبد الكريم",
    "given_name_latin": "Halima",
    "family_name_latin": "Abdelkarim",
    "sex": "female",
    "nationality": "SDN",
    "date_of_birth": "1994-03-12",
    "household_id": "ADR-HH-0457",
    "relationship": "focal_point",
    "specific_needs": ["SP-PT"],
    "occurred_at": FIELD_TIME,
}


def example(body: dict[str, Any], *, keep: type[BaseModel] | None = None) -> ConfigDict:
    """A body's config with ``body`` as its example; ``keep``: the base class whose schema
    additions (``json_schema_extra``) are kept, as a subclass's would replace them."""
    kept = keep.model_config.get("json_schema_extra") if keep is not None else None
    extra: JsonDict = dict(kept) if isinstance(kept, dict) else {}
    return ConfigDict(json_schema_extra={**extra, "examples": [body]})
