"""What every event payload model shares: its type and version, its schema's address, and the
registry that finds the model for an event read back from the log.

A payload model is the contract of one event type at one version. A change readers already
written cannot take (a field renamed, removed, retyped, or a new required field) is a new
version, registered beside the old one; every version still in the log keeps its model.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.events.types import EventType

# Where ``make docs`` writes each schema (docs/schemas/events/<type>.v<N>.json), served at
# SCHEMA_BASE_URL: the ``dataschema`` of an event names the schema of its payload.
SCHEMA_DIR = "docs/schemas/events"
SCHEMA_BASE_URL = "https://navcycle.example/schemas/events/"
_SCHEMA_URL = re.compile(r"/(?P<type>[a-z_]+\.[a-z_]+)\.v(?P<version>\d+)\.json$")
# Events written before payload models name ``urn:navcycle:schema:<type>:<version>``.
_LEGACY_URN = re.compile(r"^urn:navcycle:schema:(?P<type>[a-z_]+\.[a-z_]+):(?P<version>\d+)$")

# An ISO 8601 instant or day as the workflows write them (kept as text: readers show and compare
# them as written, and a workflow's payload never depends on how a library prints a datetime).
IsoInstant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
IsoDay = Annotated[str, Field(json_schema_extra={"format": "date"})]


class EventPayload(BaseModel):
    """The ``data`` of one event type at one version. Unknown fields are refused when an event is
    built; :func:`read_payload` drops them when reading (a newer producer's additions)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    event_type: ClassVar[EventType]
    payload_version: ClassVar[int] = 1

    @classmethod
    def schema_file(cls) -> str:
        return f"{cls.event_type.value}.v{cls.payload_version}.json"

    @classmethod
    def dataschema(cls) -> str:
        return SCHEMA_BASE_URL + cls.schema_file()

    def to_data(self) -> dict[str, Any]:
        """The JSON object the envelope carries (fields named as on the wire: ``from``): the
        fields the producer set, as before payload models; a reader's model fills the rest in
        with their defaults."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class UnknownPayload(LookupError):
    """No payload model for an event's type and version."""


_REGISTRY: dict[tuple[EventType, int], type[EventPayload]] = {}
P = TypeVar("P", bound=type[EventPayload])


def payload(event_type: EventType, version: int = 1) -> Any:
    """Class decorator: the model of ``event_type`` at ``version``."""

    def register(cls: P) -> P:
        key = (event_type, version)
        if key in _REGISTRY:
            raise ValueError(f"two payload models for {event_type.value} v{version}")
        cls.event_type, cls.payload_version = event_type, version
        _REGISTRY[key] = cls
        return cls

    return register


def payload_model(event_type: EventType | str, version: int = 1) -> type[EventPayload]:
    try:
        return _REGISTRY[(EventType(event_type), version)]
    except (KeyError, ValueError):
        raise UnknownPayload(f"no payload model for {event_type} v{version}") from None


def payload_models() -> list[type[EventPayload]]:
    """Every registered model, by type then version."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY, key=lambda k: (k[0].value, k[1]))]


def schema_version(dataschema: str) -> int:
    """The payload version a ``dataschema`` names (a schema URL, or the legacy URN)."""
    found = _SCHEMA_URL.search(dataschema) or _LEGACY_URN.match(dataschema)
    if found is None:
        raise UnknownPayload(f"not a navcycle payload schema: {dataschema!r}")
    return int(found["version"])


PayloadT = TypeVar("PayloadT", bound=EventPayload)


def read_payload(event: EventLike) -> EventPayload:
    """The typed payload of an event from the log: the model its type and ``dataschema`` name.
    Fields the model does not know (added by a newer producer of the same version) are dropped;
    a missing required field or a wrong type raises ``pydantic.ValidationError``."""
    model = payload_model(event.type.removeprefix("navcycle."), schema_version(event.dataschema))
    known = {f.alias or name for name, f in model.model_fields.items()} | set(model.model_fields)
    return model.model_validate({k: v for k, v in event.data.items() if k in known})


def read_as(event: EventLike, model: type[PayloadT]) -> PayloadT:
    """``read_payload`` for a reader that expects one model family: a payload of another type
    is a programming error (a handler subscribed to the wrong subject)."""
    found = read_payload(event)
    if not isinstance(found, model):
        raise TypeError(f"{event.type} carries {type(found).__name__}, not {model.__name__}")
    return found


def unknown_fields(model: type[EventPayload], data: dict[str, Any]) -> set[str]:
    """Fields in ``data`` the model does not name: a producer and its model out of step."""
    known = {f.alias or name for name, f in model.model_fields.items()}
    return set(data) - known


class EventLike(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def dataschema(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...


class Due(BaseModel):
    """A deadline as events carry it: the instant, its last day (when counted in days), and
    whether it was counted without that year's holiday data."""

    due: IsoInstant | None = None
    last_day: IsoDay | None = None
    provisional: bool = False


class CycleContext(BaseModel):
    """What the cycle adds to each of its events, so readers can say who and where. Events in
    the log from before names were added carry only ``stage`` and ``region``."""

    stage: str | None = Field(None, description="The cycle's stage when it emitted the event")
    region: str | None = Field(None, description="The base's region code")
    base_name: str | None = None
    program_name: str | None = None
