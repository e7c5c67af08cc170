"""What the field kinds of the read models' answers are, as JSON writes them.

Reads answer what the read models hold, unchanged: an instant keeps the offset it was
stored with, written as ``datetime.isoformat`` writes it (``+00:00``, never ``Z``), so a
response model declares the format without rewriting a value a client may compare.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

Instant = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
