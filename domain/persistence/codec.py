"""Fast event serialisation: orjson on the way out, typed fields rebuilt on the way in.

The library's JSON transcoder walks every value in Python to find UUIDs and datetimes;
orjson writes those natively. Reading back, JSON only knows strings, so each event
class's annotations say which fields to turn back into UUIDs, datetimes, dates, tuples.
The converters are worked out once per class.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from campledger.domain.persistence.personal_data import (
    SEALED,
    KeyRing,
    KeyStoreError,
    decrypt_field,
    is_erasure,
    is_person_created,
    open_values,
    personal_fields,
    seal_values,
)
from campledger.domain.persistence.topics import register_moved_modules

__all__ = ["FastMapper", "OrjsonMapper", "OrjsonTranscoder"]

Converter = Callable[[Any], Any]

# Events stored before the move to the campledger package keep decoding.
register_moved_modules()


def _plain(value: Any) -> Any:
    # orjson writes dates, UUIDs and enums natively; a tuple goes as a list.
    return list(value) if isinstance(value, tuple) else value


def _default(obj: object) -> object:
    # Types orjson does not write by itself; each comes back through its annotation.
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


class OrjsonTranscoder(Transcoder):
    """JSON bytes via orjson: UUID, datetime, date, enums and tuples written natively."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class FastMapper(Mapper[UUID]):
    """A Mapper that uses orjson and rebuilds field types from each event class's annotations.

    With a key ring, a person's personal fields are encrypted under their own key on the
    way out and opened on the way in (``personal_data``); an erased person's come back as
    None. Without one, an event with personal fields can be neither written nor read.
    """

    def __init__(
        self,
        transcoder: Transcoder | None = None,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        key_ring: KeyRing | None = None,
    ) -> None:
        super().__init__(
            transcoder=transcoder or OrjsonTranscoder(), compressor=compressor, cipher=cipher
        )
        self.key_ring = key_ring

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(type(domain_event))
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        fields = personal_fields(topic, event_state)
        if fields:
            self._seal(topic, originator_id, originator_version, event_state, fields)
        elif is_erasure(topic):
            self._ring().erasing(originator_id)
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=stored_state,
        )

    def _seal(
        self,
        topic: str,
        person_id: UUID,
        version: int,
        state: dict[str, Any],
        fields: tuple[str, ...],
    ) -> None:
        # Taken out of the state and sealed in their JSON form (a date as ISO text, read
        # back by its converter). Nothing to hide in an empty reason, and kept empty it
        # stays told apart from an erased one (which reads back as None).
        values = {}
        for name in fields:
            value = state.get(name)
            if value is not None and value != "":
                values[name] = _plain(state.pop(name))
        if not values:
            return
        ring = self._ring()
        key = ring.new_key(person_id) if is_person_created(topic) else ring.key_for(person_id)
        # A person erased has no key, and nothing personal about them is recorded again
        # (the free text of a later step, say).
        if key is not None:
            state[SEALED] = seal_values(key, person_id, version, values)

    def _open(
        self, person_id: UUID, version: int, state: dict[str, Any], fields: tuple[str, ...]
    ) -> None:
        sealed = state.pop(SEALED, None)
        # A sealed event (format 2) holds no value of the first format: the writer that
        # seals an event never wrote per-field envelopes. Looked for only without one.
        first_format = (
            [name for name in fields if isinstance(state.get(name), str) and state[name] != ""]
            if sealed is None
            else []
        )
        if sealed is not None or first_format:
            key = self._ring().key_for(person_id)
            if key is not None and sealed is not None:
                state.update(open_values(key, person_id, version, sealed))
            for name in first_format:
                state[name] = (
                    None if key is None else decrypt_field(key, person_id, name, state[name])
                )
        # What was sealed and can no longer be opened (or was never written: the person
        # was erased by then) reads as None.
        for name in fields:
            state.setdefault(name, None)

    def _ring(self) -> KeyRing:
        if self.key_ring is None:
            raise KeyStoreError("personal data needs the key store, and none was given")
        return self.key_ring

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        stored_state = stored_event.state
        try:
            if self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            event_state: dict[str, Any] = self.transcoder.decode(stored_state)
        except Exception as e:
            # The message names the event, never its contents (they may be personal data).
            msg = (
                f"Failed to deserialise state of stored event with topic "
                f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' "
                f"and originator_version {stored_event.originator_version}: "
                f"{type(e).__name__}"
            )
            raise MapperDeserialisationError(msg) from e

        id_convertor = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
        originator_id = cast(UUID, id_convertor(stored_event.originator_id))
        # Opened before upcasting: the fields were sealed in the state as it was stored. By
        # the class's own topic: an event stored under a module's earlier name is the same.
        topic = get_topic(cls)  # the library keeps each class's topic
        fields = personal_fields(topic, event_state)
        if fields:
            self._open(originator_id, stored_event.originator_version, event_state, fields)
        event_state["originator_id"] = originator_id
        event_state["originator_version"] = stored_event.originator_version
        # Upcast first: the annotations describe the current class version, and old
        # states are only shaped like it once the upcast chain has run.
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        for name, convert in converters_for(cls):
            value = event_state.get(name)
            if value is not None:
                event_state[name] = convert(value)

        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return cast(DomainEventProtocol[UUID], domain_event)


OrjsonMapper = FastMapper

_SKIPPED = frozenset({"originator_id", "originator_version"})
_cache: dict[type, tuple[tuple[str, Converter], ...]] = {}


def converters_for(cls: type) -> tuple[tuple[str, Converter], ...]:
    """The (field, converter) pairs that turn decoded JSON back into this class's types."""
    try:
        return _cache[cls]
    except KeyError:
        pass
    found: list[tuple[str, Converter]] = []
    for name, annotation in _type_hints(cls).items():
        if name in _SKIPPED or name.startswith("_"):
            continue
        convert = converter(annotation)
        if convert is not None:
            found.append((name, convert))
    result = tuple(found)
    _cache[cls] = result
    return result


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return get_type_hints(cls)
    except Exception:
        # One unresolvable annotation should not cost the others their conversion.
        hints: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            module = sys.modules.get(klass.__module__)
            namespace = dict(vars(module)) if module else {}
            for name, annotation in vars(klass).get("__annotations__", {}).items():
                if isinstance(annotation, str):
                    try:
                        annotation = eval(annotation, namespace, dict(vars(klass)))
                    except Exception:
                        continue
                hints[name] = annotation
        return hints


def converter(annotation: Any) -> Converter | None:
    """A function from a decoded JSON value to ``annotation``'s type, or None if none is needed."""
    if annotation is UUID:
        return _to_uuid
    if annotation is datetime:  # before date: datetime is a date
        return _to_datetime
    if annotation is date:
        return _to_date
    if annotation is Decimal:
        return _to_decimal
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _to_enum(annotation)
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return converter(args[0])
    if origin is Literal:
        return None
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            return None  # ambiguous: leave the JSON value as it is
        return converter(options[0])  # None values never reach a converter
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence(tuple, converter(args[0]))
        if args and args != ((),):
            return _fixed_tuple(tuple(converter(a) for a in args))
        return _sequence(tuple, None)
    if origin in (frozenset, set):
        return _sequence(origin, converter(args[0]) if args else None)
    if origin is list and args:
        inner = converter(args[0])
        return None if inner is None else _sequence(list, inner)
    if origin is dict and len(args) == 2:
        value_converter = converter(args[1])
        if value_converter is None:
            return None
        return lambda v: {k: (None if x is None else value_converter(x)) for k, x in v.items()}
    if annotation is tuple:
        return _sequence(tuple, None)
    return None


def _to_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _to_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _to_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _to_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _to_enum(enum: type[Enum]) -> Converter:
    return lambda v: v if isinstance(v, enum) else enum(v)


def _sequence(kind: type[Any], inner: Converter | None) -> Converter:
    if inner is None:
        return lambda v: v if isinstance(v, kind) else kind(v)
    return lambda v: kind(None if x is None else inner(x) for x in v)


def _fixed_tuple(inners: tuple[Converter | None, ...]) -> Converter:
    def convert(value: Any) -> tuple[Any, ...]:
        return tuple(
            x if f is None or x is None else f(x) for f, x in zip(inners, value, strict=False)
        )

    return convert
