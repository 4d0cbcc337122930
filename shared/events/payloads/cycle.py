"""Payloads of a cycle's filing and deadline events (the cycle workflow and its clock)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.events.payloads.base import (
    CycleContext,
    Due,
    EventPayload,
    IsoDay,
    IsoInstant,
    payload,
)
from shared.events.types import EventType


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineNote(_Part):
    """How a deadline was counted (the cycle's DeadlineInfo, as events carry it)."""

    spec: str = ""
    last_day: IsoDay | None = None
    provisional: bool = False
    rolled_from: IsoDay | None = None
    anchor: IsoInstant | None = None


class DocumentNote(_Part):
    """A filed document: where it is stored and its digest; never its content."""

    document_id: str
    kind: str = ""
    version: int = 1
    key: str = ""
    sha256: str = ""
    size: int = 0
    content_type: str = ""
    filename: str = ""
    filed_by: str = ""
    filed_at: IsoInstant | None = None


class TargetNote(_Part):
    key: str
    name: str
    target: float
    unit: str = ""


class DueAt(Due):
    """A deadline before or after a change (``from`` / ``to``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@payload(EventType.CYCLE_OPENED)
class CycleOpened(EventPayload, CycleContext):
    deadlines: dict[str, IsoInstant] = Field(default_factory=dict)
    deadline_info: dict[str, DeadlineNote] = Field(default_factory=dict)
    held: bool = Field(False, description="Opened on hold: the base is still rectifying")
    reason: str | None = None


@payload(EventType.REMINDER_SENT)
class ReminderSent(EventPayload, CycleContext, Due):
    deadline: str
    escalation: bool = False
    to: str | None = Field(None, description="Escalated to: city | province | experts | a step")
    daily: bool = False
    reason: str | None = None
    message: str | None = None


@payload(EventType.PLAN_FILED)
class PlanFiled(EventPayload, CycleContext):
    document: DocumentNote
    targets: list[TargetNote] = Field(default_factory=list)


class _PlanDecision(EventPayload, CycleContext):
    step: str
    comment: str = ""
    reviewer: str = ""
    taken_over: bool = False
    reason: str = ""


@payload(EventType.PLAN_VERIFIED)
class PlanVerified(_PlanDecision):
    pass


@payload(EventType.PLAN_RETURNED)
class PlanReturned(_PlanDecision):
    refile_by: IsoInstant | None = None


@payload(EventType.PLAN_ACCEPTED)
class PlanAccepted(EventPayload, CycleContext):
    pass


@payload(EventType.PLAN_OVERDUE)
class PlanOverdue(EventPayload, CycleContext, Due):
    designation: bool = Field(False, description="The new plan after a designation (验收)")


@payload(EventType.PLAN_STEP_TAKEN_OVER)
class PlanStepTakenOver(EventPayload, CycleContext, Due):
    step: str
    how: str = Field(description="consent | province")


@payload(EventType.SELFEVAL_FILED)
class SelfevalFiled(EventPayload, CycleContext):
    document: DocumentNote
    actuals: dict[str, float] = Field(default_factory=dict)


@payload(EventType.SELFEVAL_OVERDUE)
class SelfevalOverdue(EventPayload, CycleContext, Due):
    pass


@payload(EventType.DEADLINE_EXTENDED)
class DeadlineExtended(EventPayload, CycleContext):
    deadline: str
    from_: IsoInstant = Field(alias="from")
    until: IsoInstant
    reason: str = ""
    by: str = ""


@payload(EventType.DEADLINE_MOVED)
class DeadlineMoved(EventPayload, CycleContext):
    deadline: str
    from_: DueAt = Field(alias="from")
    to: DueAt
    reason: str = ""
    minimum: str = ""


@payload(EventType.DEADLINE_RECOMPUTED)
class DeadlineRecomputed(EventPayload, CycleContext):
    """A provisional deadline counted again on new holiday data (a cycle's, or the program
    year's publication period, which carries no cycle context)."""

    deadline: str
    from_: DueAt = Field(alias="from")
    to: DueAt
    calendar: str
    calendar_version: int
