"""What the HTTP API answers: public response models, HTTP-only shapes owned by the gateway.

A route builds one of these from what it read (already cut down by
:mod:`services.gateway.need_to_know`), so a field added to a workflow's or a service's internal
model reaches no client until it is named here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.cycle import CycleState, DocumentRef, HistoryStep, Target
from shared.domain.grading import DecisionRecord, Grade
from shared.domain.rules import Scale, VerificationStep, VetoItem, VetoOutcome
from shared.domain.stages import Stage


class DeadlineWords(BaseModel):
    zh: str = Field(description="「2027年4月1日24时前」, provisional marked")
    en: str = Field(description='"by end of 1 April 2027", provisional marked')


class DeadlinePublic(BaseModel):
    """How a deadline was counted, as far as a reader needs it (not what it is counted from)."""

    last_day: date | None = Field(None, description="The last day counted (Beijing time)")
    provisional: bool = Field(False, description="Counted without that year's holiday data")
    rolled_from: date | None = Field(None, description="The last day before a holiday moved it")


class CyclePublic(BaseModel):
    """One base's cycle as the caller may see it: expert names only to the province (an expert:
    its own), sheets and provisional grades by need to know; no workflow bookkeeping."""

    program: str
    year: int
    base: str
    rules_version: int
    stage: Stage
    verification_step: VerificationStep | None = Field(
        None, description="The plan verification step pending (city or province)"
    )
    round: int = Field(0, description="0 is the yearly review; 1.. are rectification re-reviews")
    grade: Grade | None = None
    total: float | None = None
    final_grade: Grade | None = None
    deadlines: dict[str, datetime] = Field(default_factory=dict)
    deadline_info: dict[str, DeadlinePublic] = Field(default_factory=dict)
    deadline_words: dict[str, DeadlineWords] = Field(
        default_factory=dict, description="Each deadline in words beside its exact instant"
    )
    outcome: str | None = Field(None, description="How the cycle ended or stands, for the 公示")
    outcome_reason_zh: str = ""
    outcome_reason_en: str = ""
    experts: list[str] = Field(
        default_factory=list, description="Assigned to the open review (the province only)"
    )
    step_taken_by: str | None = Field(None, description="Who takes a silent verification step")
    documents: list[DocumentRef] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    actuals: dict[str, float] = Field(default_factory=dict)
    scores_received: int = 0
    plan_filed: bool = Field(False, description="A plan is filed and not returned")
    history: list[HistoryStep] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)

    @classmethod
    def of(cls, state: CycleState, words: dict[str, DeadlineWords]) -> CyclePublic:
        """``state`` as need to know left it; only the fields named here are kept."""
        shown = state.model_dump(include=set(cls.model_fields) - {"deadline_info"})
        info = {k: DeadlinePublic(**v.model_dump()) for k, v in state.deadline_info.items()}
        return cls(**shown, deadline_info=info, deadline_words=words)


class PlanReviewAnswer(BaseModel):
    step: str = Field(
        description="The step taken: city, province or national (empty on a replayed key)"
    )
    decision: Literal["approve", "return"]
    stage: Stage = Field(description="The cycle's stage after the review")


class ScoreAnswer(BaseModel):
    status: Literal["recorded", "graded"] = Field(
        description="recorded: the sheet is kept; graded: it completed the review"
    )
    expert: str
    total: float | None = Field(None, description="Set when graded")
    grade: Grade | None = Field(None, description="Set when graded")


class DeadlineExtended(BaseModel):
    deadline: Literal["plan", "plan_review", "self_evaluation", "review", "rectification"]
    until: datetime = Field(description="The new deadline, as the cycle recorded it")
    reason: str


class RubricRounding(BaseModel):
    decimals: int
    mode: Literal["half_up"]
    description_zh: str
    description_en: str


class RubricIndicator(BaseModel):
    key: str
    name: str
    name_en: str | None = None
    max: float = Field(description="The most an expert may give, on the rubric's scale")
    weight: float | None = Field(None, description="On the percent scale only")


class Rubric(BaseModel):
    """The rubric as experts enter scores on it."""

    scale: Scale
    description_zh: str
    description_en: str
    total_max: float
    rounding: RubricRounding
    indicators: list[RubricIndicator]
    vetoes: list[VetoItem]
    veto_outcome: VetoOutcome
    veto_outcome_zh: str
    veto_outcome_en: str


class ComponentHealth(BaseModel):
    """One component's check; what else it reports (an address, a count) varies by component."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "down"]
    error: str | None = Field(None, description="Why it is down")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    components: dict[str, ComponentHealth]
