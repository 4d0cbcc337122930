"""CloudEvents 1.0 structured JSON envelope for every navcycle event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.payloads import EventPayload, payload_model, read_payload
from shared.events.subjects import PROGRAM_WIDE, event_subject
from shared.events.types import EventType

_ID_NAMESPACE = uuid.UUID("6f1d3c1e-8a51-4d0b-9a53-2d6b1c0e9f00")
# The program year's events on a base's subject that are not the cycle's own (outcome decisions):
# the dashboard folds only the cycle's stream (source "navcycle/workflows") into a cycle's view.
YEAR_SOURCE = "navcycle/workflows/program-year"


def event_id(stream_key: str, sequence: int, event_type: EventType) -> str:
    """Deterministic id: the same step of the same cycle always gets the same id.

    ``stream_key`` names the event's source stream (a workflow id or an operator action), and
    ``sequence`` is its position there, so a retried activity republishes the same id and
    JetStream drops the copy.
    """
    return str(uuid.uuid5(_ID_NAMESPACE, f"{stream_key}#{sequence}#{event_type.value}"))


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    dataschema: str
    # Extension attributes (lowercase alphanumerics, per the CloudEvents spec).
    program: str
    year: int
    base: str
    sequence: int = Field(ge=0, description="Position in the source stream, gap-free per cycle")
    # On the wire a JSON object, as CloudEvents has it; read it through ``payload()``.
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("event time must carry a time zone")
        return value

    @property
    def event_type(self) -> EventType:
        return EventType.from_cloudevents_type(self.type)

    @property
    def nats_subject(self) -> str:
        base = None if self.base == PROGRAM_WIDE else self.base
        return event_subject(self.program, self.year, base, self.event_type)

    def payload(self) -> EventPayload:
        """The typed payload: the model this event's type and ``dataschema`` name."""
        return read_payload(self)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        return cls.model_validate_json(raw)

    @classmethod
    def read(cls, raw: bytes | str) -> CloudEvent:
        """An event from the log that its consumers can read: the envelope and its payload model.

        Raises ``ValidationError`` (or ``UnknownPayload`` for a type or version with no model), so
        a reader puts a bad event aside (dead letter, skipped count) at the edge instead of
        failing on it later, again and again, in the middle of a batch.
        """
        event = cls.from_json(raw)
        read_payload(event)
        return event


def new_event(
    *,
    payload: EventPayload | None = None,
    program: str,
    year: int,
    base: str | None,
    time: datetime,
    stream_key: str,
    sequence: int,
    source: str = "navcycle/workflows",
    event_type: EventType | None = None,
    data: dict[str, Any] | None = None,
) -> CloudEvent:
    """An event built from its payload model: the type and ``dataschema`` follow from it.

    ``event_type`` with raw ``data`` writes an event as it may already sit in the log (an older
    producer's shape, a test's partial payload); no producer of ours builds events that way.
    """
    if payload is not None:
        if event_type is not None and event_type != payload.event_type:
            raise ValueError(f"a {payload.event_type.value} payload on a {event_type.value} event")
        event_type, body, schema = payload.event_type, payload.to_data(), payload.dataschema()
    elif event_type is not None:
        body, schema = dict(data or {}), payload_model(event_type).dataschema()
    else:
        raise TypeError("new_event needs a payload (or an event_type with raw data)")
    base_token = base or PROGRAM_WIDE
    return CloudEvent(
        id=event_id(stream_key, sequence, event_type),
        source=source,
        type=event_type.cloudevents_type,
        subject=f"{program}/{year}/{base_token}",
        time=time,
        dataschema=schema,
        program=program,
        year=year,
        base=base_token,
        sequence=sequence,
        data=body,
    )
