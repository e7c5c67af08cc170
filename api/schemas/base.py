"""What every body shares: unknown fields refused, unstorable values named, and the
command's field time in, its log position out."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from campledger.api.schemas.examples import FIELD_TIME, example
from campledger.api.schemas.fields import DateTime
from campledger.domain.model.values import unstorable

# The pydantic error type of an unstorable value; api.problems answers it as the domain's
# ``unstorable-value`` problem, whichever way in it came from.
UNSTORABLE_ERROR = "unstorable_value"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        # The domain's rule (domain.values.unstorable), applied to the values as sent so
        # that each field is named and the rule wins over the field's others (a NUL in a
        # 3-letter code is unstorable, not too long): one problem type from every way in.
        # Nested models check their own fields, so a sync queue's items are each checked
        # as they are parsed (api.sync) and one bad item is rejected alone. (A model
        # validator, as pydantic allows no field validator on the tag of a sync item.)
        if not isinstance(data, dict):
            return data
        checked = _checked_fields(cls)
        found = [
            InitErrorDetails(
                type=PydanticCustomError(UNSTORABLE_ERROR, reason), loc=(name,), input=value
            )
            for name, value in data.items()
            if name in checked and (reason := unstorable(value)) is not None
        ]
        if found:
            raise ValidationError.from_exception_data(cls.__name__, found)
        return data


@cache
def _checked_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields whose values a model checks itself: all but those holding models. Worked
    out once per model: asked of ``model_fields`` for every value, as pydantic answers it,
    it took most of the time a sync queue's items spend being parsed."""
    return frozenset(name for name in model.model_fields if not _holds_models(model, name))


@cache
def _holds_models(model: type[BaseModel], name: str) -> bool:
    """Whether a field's type is (or contains) a model, which validates its own fields."""
    pending = [model.model_fields[name].annotation]
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return True
        pending.extend(get_args(kind))
    return False


# Named ``Command`` in the OpenAPI document (its component), which takes the class's name;
# the domain's typed commands are ``campledger.domain.commands.Command``, so importers
# rename this one (``Command as Occurrence``).
class Command(Strict):
    # The body of commands that need nothing but their time (dispatch, reconcile); every
    # other command's body gives its own example.
    model_config = example({"occurred_at": FIELD_TIME})

    occurred_at: DateTime | None = Field(
        default=None, description="When it happened in the field (default: now)."
    )


class CommandPublic(BaseModel):
    position: int = Field(description="Log position of the command's last event.")
    replayed: bool = Field(description="True when the Idempotency-Key was seen before.")
