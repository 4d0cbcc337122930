"""Payloads of the review, rectification and a cycle's end (the cycle workflow and the
assessment service)."""

from __future__ import annotations

from pydantic import Field

from shared.domain.grading import DecisionRecord
from shared.events.payloads.base import CycleContext, Due, EventPayload, IsoInstant, payload
from shared.events.payloads.cycle import DocumentNote
from shared.events.types import EventType


@payload(EventType.REVIEW_OPENED)
class ReviewOpened(EventPayload, CycleContext, Due):
    round: int = Field(0, description="0 is the yearly review; 1.. are rectification re-reviews")
    experts_required: int = 1
    experts: list[str] = Field(default_factory=list)
    objection_id: str | None = Field(None, description="Reopened for an upheld objection")


@payload(EventType.REVIEW_SCORED)
class ReviewScored(EventPayload, CycleContext):
    round: int = 0
    expert: str
    scores: dict[str, float]
    vetoes: list[str] = Field(default_factory=list)


@payload(EventType.REVIEW_GRADED)
class ReviewGraded(EventPayload, CycleContext, DecisionRecord):
    """The decision record a grade was computed from, whole (recomputable from the event)."""

    objection_id: str | None = None

    def record(self) -> DecisionRecord:
        return DecisionRecord.model_validate(
            self.model_dump(include=set(DecisionRecord.model_fields))
        )


@payload(EventType.EXPERT_ASSIGNED)
class ExpertAssigned(EventPayload):
    program: str | None = None
    year: int | None = None
    base: str | None = None
    round: int = 0
    expert: str
    due: IsoInstant | None = None


@payload(EventType.EXPERT_REASSIGNED)
class ExpertReassigned(EventPayload, CycleContext, Due):
    """Two producers write this type: the cycle after silent experts (``replaced`` and
    ``experts`` lists, a fresh window) and the assessment service per replaced expert
    (``replaced`` one name, ``expert`` the successor, ``by`` who decided)."""

    program: str | None = None
    year: int | None = None
    base: str | None = None
    round: int = 0
    replaced: list[str] | str = Field(default_factory=list)
    experts: list[str] = Field(default_factory=list)
    expert: str | None = Field(None, description="The one successor (the assessment service)")
    by: str | None = None
    reason: str = ""

    @property
    def replaced_names(self) -> list[str]:
        return [self.replaced] if isinstance(self.replaced, str) else list(self.replaced)


@payload(EventType.RECTIFICATION_ORDERED)
class RectificationOrdered(EventPayload, CycleContext, Due):
    round: int


@payload(EventType.RECTIFICATION_FILED)
class RectificationFiled(EventPayload, CycleContext):
    round: int
    document: DocumentNote


@payload(EventType.RECTIFICATION_PASSED)
class RectificationPassed(EventPayload, CycleContext):
    round: int


@payload(EventType.RECTIFICATION_FAILED)
class RectificationFailed(EventPayload, CycleContext):
    round: int
    reason: str = Field(description="failed | lapsed")


@payload(EventType.BASE_DESIGNATED)
class BaseDesignated(EventPayload, CycleContext, Due):
    grade: str


@payload(EventType.BASE_DELISTED)
class BaseDelisted(EventPayload, CycleContext):
    reason: str = "not rectified"


@payload(EventType.CYCLE_CLOSED)
class CycleClosed(EventPayload, CycleContext):
    grade: str | None = None
    outcome: str | None = None
    rectified: bool = False
    vetoes: list[str] = Field(default_factory=list)


@payload(EventType.CYCLE_EXCLUDED)
class CycleExcluded(EventPayload, CycleContext):
    reason: str


@payload(EventType.CYCLE_ENDED)
class CycleEnded(EventPayload, CycleContext):
    reason: str = ""
    delisted_in_year: int | None = None
