"""What goes into and comes out of one base's cycle (AnnualCycleWorkflow): its input, the
human inputs it takes as updates, the signals it takes, its state and its outcome."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from shared.contracts import workflow_names as names
from shared.contracts.strict import StrictModel
from shared.domain.chains import ChainLevel, ChainStep
from shared.domain.grading import DecisionRecord, Grade
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage

DocumentKind = Literal["plan", "self_evaluation", "rectification", "evidence", "results"]


class BaseInfo(StrictModel):
    id: str
    name: str
    region: str
    domain: str = ""
    status: str = Field("active", description="The registry status when the cycle opened")
    kind: str = Field(
        "", description="The participant kind it registered as (empty: the program's first)"
    )


class CycleInput(StrictModel):
    program: str
    year: int
    base: BaseInfo
    rules: ProgramRules
    rules_version: int
    launched_at: datetime
    parent_id: str | None = None
    arrival_max_skew_s: int = Field(
        300, ge=0, description="How far a filing's arrival time is trusted behind the cycle's clock"
    )
    parent_secret: str = Field(
        "", description="Shared with the program year: its grades and decisions carry it"
    )
    chain: list[ChainStep] | None = Field(
        None,
        description=(
            "The participant kind's verification chain, run in place of the rules'"
            " verification (None: the rules' verification, as cycles opened before kinds ran)"
        ),
    )


class Actor(StrictModel):
    """Who acts, as the gateway authenticated them: every human input carries it, and the
    cycle checks it against its own state (the step pending, the experts assigned, its base)."""

    name: str = Field(min_length=1, max_length=200)
    role: Literal[
        "province_admin", "city_officer", "base_user", "expert", "operator", "viewer", "system"
    ]
    base: str | None = None
    region: str | None = None


ACTOR = Field(None, description="Who acts; an input without one is refused (actor_required)")


class Target(StrictModel):
    key: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    target: float
    unit: str = Field("", max_length=32)


class Upload(StrictModel):
    """A document already stored in object storage; only its reference travels."""

    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    content_type: str
    filename: str = Field(max_length=255)
    filed_by: str = "anonymous"


def _unique_targets(value: list[Target]) -> list[Target]:
    keys = [t.key for t in value]
    if len(keys) != len(set(keys)):
        raise ValueError("target keys must be unique")
    return value


Targets = Annotated[list[Target], Field(max_length=200), AfterValidator(_unique_targets)]


ARRIVAL = Field(
    None,
    description=(
        "When the gateway received the filing: a filing that arrived before its deadline is"
        " admitted even if the cycle processes it later (within the configured skew)"
    ),
)


class FilePlan(StrictModel):
    upload: Upload
    targets: Targets
    received_at: datetime | None = ARRIVAL
    actor: Actor | None = ACTOR


class ReviewPlan(StrictModel):
    step: ChainLevel
    decision: Literal["approve", "return"]
    comment: str = Field("", max_length=2000)
    reviewer: str = "anonymous"
    taken_over: bool = Field(
        False, description="The province takes a silent step itself (reason required)"
    )
    reason: str = Field("", max_length=2000)
    actor: Actor | None = ACTOR


class FileSelfEvaluation(StrictModel):
    upload: Upload
    actuals: dict[str, float] = Field(default_factory=dict)
    received_at: datetime | None = ARRIVAL
    actor: Actor | None = ACTOR


class SubmitScore(StrictModel):
    expert: str
    scores: dict[str, float]
    vetoes: list[str] = Field(default_factory=list)
    comment: str = Field("", max_length=4000)
    actor: Actor | None = ACTOR


class FileRectification(StrictModel):
    upload: Upload
    received_at: datetime | None = ARRIVAL
    actor: Actor | None = ACTOR


class ExtendDeadline(StrictModel):
    deadline: str
    until: datetime
    reason: str = Field(min_length=1, max_length=1000)
    by: str = "anonymous"
    actor: Actor | None = ACTOR


class FinalGrade(StrictModel):
    grade: Grade
    finalized_at: datetime
    secret: str = Field("", description="The program year's own: a grade from elsewhere is ignored")


class CycleGraded(StrictModel):
    base: str
    total: float | None
    grade: Grade | None
    excluded: bool = False
    name: str = ""
    region: str = ""
    reason: str = Field("scored", description="scored | plan_overdue | self_evaluation_overdue")
    vetoes: list[str] = Field(default_factory=list)
    objection_id: str | None = Field(None, description="A re-review after an upheld objection")
    secret: str = Field("", description="The program year's, as its cycle knows it")


class CycleConcluded(StrictModel):
    """A cycle's last word to its program year: how it ended, for the supplementary notice."""

    base: str
    stage: Stage
    outcome: str
    reason_zh: str = ""
    reason_en: str = ""
    secret: str = ""


class BaseDelisted(StrictModel):
    year: int = Field(description="The program year whose cycle de-listed the base")
    reason: str


class PriorCycleEnded(StrictModel):
    year: int
    outcome: Literal["rectified", "delisted", "closed"]


class AtAggregation(StrictModel):
    """A cycle to its program year: its plan waits at (``waiting``) or has left its region's
    aggregation step (forwarded, or moved on by the silence rule)."""

    base: str
    region: str = Field(description="The region that collects and forwards the plan")
    level: ChainLevel
    waiting: bool = True
    due: datetime | None = Field(None, description="The step's forward_by deadline")
    secret: str = ""


class PlansForwarded(StrictModel):
    """The program year to a cycle: its region forwarded its plan (``ForwardingRecord``)."""

    region: str
    forwarded_at: datetime
    by: str
    document_id: str | None = None
    secret: str = ""


class ReopenReview(StrictModel):
    objection_id: str
    reason: str
    secret: str = ""


class DeadlineInfo(StrictModel):
    spec: str = ""
    last_day: date | None = Field(None, description="The last day counted (Beijing time)")
    provisional: bool = Field(False, description="Counted without that year's holiday data")
    rolled_from: date | None = Field(None, description="The last day before a holiday moved it")
    anchor: datetime | None = Field(None, description="Counted from; kept to count it again")


class DocumentRef(StrictModel):
    document_id: str
    kind: DocumentKind
    version: int
    key: str
    sha256: str
    size: int
    content_type: str
    filename: str
    filed_by: str
    filed_at: datetime


class Receipt(StrictModel):
    document_id: str
    sha256: str
    version: int
    size: int
    received_at: datetime | None = Field(None, description="When the filing arrived")


class ScoreReceipt(StrictModel):
    graded: bool
    decision: DecisionRecord | None = Field(
        None, description="Set when this sheet completed the review"
    )


class HistoryStep(StrictModel):
    at: datetime
    event: str
    sequence: int
    detail: dict[str, Any] = Field(default_factory=dict)


class CycleState(StrictModel):
    program: str
    year: int
    base: str
    rules_version: int
    stage: Stage
    verification_step: ChainLevel | None = None
    forwarding_region: str | None = Field(
        None,
        description=(
            "At an aggregation step: the region that collects this plan and forwards it with its"
            " other units' plans by deadlines['forwarding']"
        ),
    )
    round: int = 0
    grade: Grade | None = None
    total: float | None = None
    final_grade: Grade | None = None
    deadlines: dict[str, datetime] = Field(default_factory=dict)
    deadline_info: dict[str, DeadlineInfo] = Field(default_factory=dict)
    outcome: str | None = Field(None, description="How the cycle ended or stands, for the 公示")
    outcome_reason_zh: str = ""
    outcome_reason_en: str = ""
    experts: list[str] = Field(default_factory=list, description="Assigned to the open review")
    step_taken_by: str | None = Field(None, description="Who takes a silent verification step")
    documents: list[DocumentRef] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    actuals: dict[str, float] = Field(default_factory=dict)
    scores_received: int = 0
    plan_filed: bool = Field(False, description="A plan is filed and not returned")
    rectification_filed_round: int = 0
    history: list[HistoryStep] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)


class CycleOutcome(StrictModel):
    stage: Stage
    grade: Grade | None
    total: float | None
    final_grade: Grade | None


# What each of a cycle's updates answers: clients decode the answer by it.
UPDATE_RESULTS: dict[str, type] = {
    names.FILE_PLAN: Receipt,
    names.REVIEW_PLAN: Stage,
    names.FILE_SELF_EVALUATION: Receipt,
    names.SUBMIT_SCORE: ScoreReceipt,
    names.FILE_RECTIFICATION: Receipt,
    names.EXTEND_DEADLINE: datetime,
}
