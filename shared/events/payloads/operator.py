"""Payloads of what operators and the registry decide outside a cycle."""

from __future__ import annotations

from pydantic import Field, JsonValue

from shared.events.payloads.base import EventPayload, IsoInstant, payload
from shared.events.types import EventType


@payload(EventType.OPERATOR_ACTION)
class OperatorAction(EventPayload):
    """The audit record: who did what, on which target, why, with which arguments (the
    arguments differ per action, so they stay a JSON object; never a secret)."""

    actor: str
    via: str = Field(description="cli | api")
    action: str
    target: str
    reason: str | None = None
    arguments: dict[str, JsonValue] = Field(default_factory=dict)


@payload(EventType.BASE_REINSTATED)
class BaseReinstated(EventPayload):
    status: str
    reason: str = ""
    by: str = ""
    delisted_at: IsoInstant | None = None
    delisted_in_year: int | None = None


@payload(EventType.CALENDAR_APPLIED)
class CalendarApplied(EventPayload):
    calendar: str
    version: int
    created: bool = True
    years: list[int] = Field(default_factory=list)
    sha256: str = ""
