"""The one-model-in, one-model-out contracts of workflows, updates, queries and activities."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.domain.grading import DecisionRecord, Grade
from shared.domain.rules import ProgramRules, VerificationStep
from shared.domain.stages import Stage
from shared.events.envelope import CloudEvent

DocumentKind = Literal["plan", "self_evaluation", "rectification", "evidence", "results"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BaseInfo(_Model):
    id: str
    name: str
    region: str
    domain: str = ""


class CycleInput(_Model):
    program: str
    year: int
    base: BaseInfo
    rules: ProgramRules
    rules_version: int
    launched_at: datetime
    parent_id: str | None = None


class Target(_Model):
    key: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    target: float
    unit: str = Field("", max_length=32)


class Upload(_Model):
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


class FilePlan(_Model):
    upload: Upload
    targets: Targets
    received_at: datetime | None = ARRIVAL


class ReviewPlan(_Model):
    step: VerificationStep
    decision: Literal["approve", "return"]
    comment: str = Field("", max_length=2000)
    reviewer: str = "anonymous"


class FileSelfEvaluation(_Model):
    upload: Upload
    actuals: dict[str, float] = Field(default_factory=dict)
    received_at: datetime | None = ARRIVAL


class SubmitScore(_Model):
    expert: str
    scores: dict[str, float]
    vetoes: list[str] = Field(default_factory=list)
    comment: str = Field("", max_length=4000)


class FileRectification(_Model):
    upload: Upload
    received_at: datetime | None = ARRIVAL


class ExtendDeadline(_Model):
    deadline: str
    until: datetime
    reason: str = Field(min_length=1, max_length=1000)
    by: str = "anonymous"


class FinalGrade(_Model):
    grade: Grade
    finalized_at: datetime


class CycleGraded(_Model):
    base: str
    total: float | None
    grade: Grade | None
    excluded: bool = False


class DocumentRef(_Model):
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


class Receipt(_Model):
    document_id: str
    sha256: str
    version: int
    size: int
    received_at: datetime | None = Field(None, description="When the filing arrived")


class ScoreReceipt(_Model):
    graded: bool
    decision: DecisionRecord | None = Field(
        None, description="Set when this sheet completed the review"
    )


class HistoryStep(_Model):
    at: datetime
    event: str
    sequence: int
    detail: dict[str, Any] = Field(default_factory=dict)


class CycleState(_Model):
    program: str
    year: int
    base: str
    rules_version: int
    stage: Stage
    verification_step: VerificationStep | None = None
    round: int = 0
    grade: Grade | None = None
    total: float | None = None
    final_grade: Grade | None = None
    deadlines: dict[str, datetime] = Field(default_factory=dict)
    documents: list[DocumentRef] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    actuals: dict[str, float] = Field(default_factory=dict)
    scores_received: int = 0
    plan_filed: bool = Field(False, description="A plan is filed and not returned")
    rectification_filed_round: int = 0
    history: list[HistoryStep] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)


class CycleOutcome(_Model):
    stage: Stage
    grade: Grade | None
    total: float | None
    final_grade: Grade | None


class ProgramYearInput(_Model):
    program: str
    year: int
    # Carried across continue-as-new:
    rules: ProgramRules | None = None
    rules_version: int | None = None
    launched_at: datetime | None = None
    cursor: str | None = None
    listing_done: bool = False
    opened: int = 0
    graded: dict[str, CycleGraded] = Field(default_factory=dict)
    sequence: int = 0


class ProgramYearState(_Model):
    program: str
    year: int
    phase: str
    opened: int
    graded: int
    excluded: int
    rules_version: int | None


# Activity contracts


class OpenCyclesRequest(_Model):
    program: str
    year: int
    rules: ProgramRules
    rules_version: int
    launched_at: datetime
    parent_id: str
    bases: list[BaseInfo]
    search_attributes: bool


class LaunchRequest(_Model):
    program: str
    at: datetime | None = Field(None, description="When; the program-local year of it is opened")
    search_attributes: bool = True


class LaunchResult(_Model):
    workflow_id: str
    year: int
    status: Literal["launched", "already_launched"]


class PublishRequest(_Model):
    event: CloudEvent


class DocumentRecord(_Model):
    program: str
    year: int
    base: str
    document: DocumentRef


class BasesPage(_Model):
    bases: list[BaseInfo]
    next_cursor: str | None = None


class ListBasesRequest(_Model):
    program: str
    cursor: str | None = None
    limit: int = 500


class RulesRequest(_Model):
    program: str


class BaseStatusRequest(_Model):
    program: str
    base: str
    status: Literal["active", "rectifying", "delisted"]
    reason: str = ""


class WorkingDaysRequest(_Model):
    start: datetime
    count: int
    utc_offset: str


class WorkingDaysResult(_Model):
    until: datetime
    holidays_known: bool = Field(description="False: the holiday table lacked a year")


class StoreResultsRequest(_Model):
    program: str
    year: int
    entries: list[dict[str, Any]]


class StoredResults(_Model):
    key: str
    sha256: str
    size: int


class FinalizeCyclesRequest(_Model):
    program: str
    year: int
    grades: dict[str, Grade]
    finalized_at: datetime
