"""The yearly cycle over HTTP: launch, cycle state, and every human input as an update."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from temporalio.client import WorkflowHandle

from services.gateway.deps import DepsDep
from services.gateway.problems import ApiError
from services.gateway.temporal_errors import call_workflow
from services.gateway.uploads import read_limited, store_upload
from shared.contracts.registry import PinnedRules
from shared.rpc import RpcError
from workflows.admission import FilingKind, filing_refusal
from workflows.cycle import AnnualCycleWorkflow
from workflows.errors import HTTP_STATUS
from workflows.ids import cycle_id, program_year_id
from workflows.models import (
    CycleState,
    ExtendDeadline,
    FilePlan,
    FileRectification,
    FileSelfEvaluation,
    ProgramYearState,
    Receipt,
    ReviewPlan,
    RulesRequest,
    SubmitScore,
    Target,
    Targets,
)
from workflows.program_year import ProgramYearWorkflow
from workflows.starters import start_program_year

ID = r"^[A-Za-z0-9_-]{1,64}$"
Program = Annotated[str, Path(pattern=ID)]
Year = Annotated[int, Path(ge=2000, le=2100)]
Base = Annotated[str, Path(pattern=ID)]
UPDATE_TIMEOUT = timedelta(seconds=20)

router = APIRouter(prefix="/v1/programs/{program}/years/{year}", tags=["cycles"])
_targets: TypeAdapter[list[Target]] = TypeAdapter(Targets)
_actuals = TypeAdapter(dict[str, float])


class LaunchAccepted(BaseModel):
    workflow_id: str
    status: Literal["launched", "already_launched"]
    rules_version: int


class PlanReviewBody(BaseModel):
    step: Literal["city", "province"]
    decision: Literal["approve", "return"]
    comment: str = Field("", max_length=2000)


class ScoresBody(BaseModel):
    scores: dict[str, float]
    vetoes: list[str] = Field(default_factory=list, max_length=20)
    comment: str = Field("", max_length=4000)
    expert: str = Field("expert", pattern=ID, description="Until tokens arrive: the expert's id")


class ExtensionBody(BaseModel):
    deadline: str = Field(max_length=32)
    until: datetime
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/launch", status_code=202)
async def launch(program: Program, year: Year, deps: DepsDep) -> LaunchAccepted:
    try:
        pinned = await deps.rpc.call(
            "registry", "rules.current", RulesRequest(program=program), PinnedRules
        )
    except RpcError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    status = await start_program_year(
        deps.temporal, program=program, year=year, task_queue=deps.settings.task_queue
    )
    return LaunchAccepted(
        workflow_id=program_year_id(program, year), status=status, rules_version=pinned.version
    )


@router.get("")
async def program_year(program: Program, year: Year, deps: DepsDep) -> ProgramYearState:
    handle = deps.temporal.get_workflow_handle(program_year_id(program, year))
    return await call_workflow(handle.query(ProgramYearWorkflow.state), what="program year")


def _cycle(deps: Any, program: str, year: int, base: str) -> WorkflowHandle[Any, Any]:
    return deps.temporal.get_workflow_handle(cycle_id(program, year, base))


async def _state(deps: Any, program: str, year: int, base: str) -> CycleState:
    handle = _cycle(deps, program, year, base)
    return await call_workflow(handle.query(AnnualCycleWorkflow.state), what="the cycle")


@router.get("/bases/{base}")
async def cycle_state(program: Program, year: Year, base: Base, deps: DepsDep) -> CycleState:
    return await _state(deps, program, year, base)


async def _precheck(deps: Any, program: str, year: int, base: str, kind: FilingKind) -> None:
    """Refuse early, before storing any bytes; the workflow's validator still decides."""
    state = await _state(deps, program, year, base)
    refusal = filing_refusal(state, kind, datetime.now(UTC))
    if refusal is not None:
        code, message = refusal
        raise ApiError(HTTP_STATUS[code], code, message, stage=state.stage.value)


def _parse(adapter: TypeAdapter[Any], raw: str, code: str, what: str) -> Any:
    try:
        return adapter.validate_python(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ApiError(422, code, f"{what} must be JSON of the documented shape: {exc}") from None


async def _update(
    deps: Any, program: str, year: int, base: str, update: Any, arg: Any, what: str
) -> Any:
    handle = _cycle(deps, program, year, base)
    return await call_workflow(
        handle.execute_update(update, arg, rpc_timeout=UPDATE_TIMEOUT), what=what
    )


@router.post("/bases/{base}/plan", status_code=201)
async def file_plan(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    file: Annotated[UploadFile, File(description="The implementation plan (实施方案)")],
    targets: Annotated[str, Form(description="JSON list of {key, name, target, unit}")],
) -> Receipt:
    parsed = _parse(_targets, targets, "invalid_targets", "targets")
    await _precheck(deps, program, year, base, "plan")
    data = await read_limited(file, deps.settings.upload_max_bytes)
    upload = await store_upload(
        deps.objects,
        data=data,
        filename=file.filename or "",
        program=program,
        year=year,
        base=base,
        kind="plan",
        filed_by=base,
    )
    return await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.file_plan,
        FilePlan(upload=upload, targets=parsed),
        "filing the plan",
    )


@router.post("/bases/{base}/plan/review", status_code=200)
async def review_plan(
    program: Program, year: Year, base: Base, body: PlanReviewBody, deps: DepsDep
) -> dict[str, str]:
    review = ReviewPlan(
        step=body.step, decision=body.decision, comment=body.comment, reviewer=body.step
    )
    await _update(
        deps, program, year, base, AnnualCycleWorkflow.review_plan, review, "the plan review"
    )
    return {"status": "recorded", "decision": body.decision}


@router.post("/bases/{base}/self-evaluation", status_code=201)
async def file_self_evaluation(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    file: Annotated[UploadFile, File(description="The self-evaluation report (年度自评报告)")],
    actuals: Annotated[str, Form(description="JSON object {target key: actual value}")] = "{}",
) -> Receipt:
    parsed = _parse(_actuals, actuals, "invalid_request", "actuals")
    await _precheck(deps, program, year, base, "self_evaluation")
    data = await read_limited(file, deps.settings.upload_max_bytes)
    upload = await store_upload(
        deps.objects,
        data=data,
        filename=file.filename or "",
        program=program,
        year=year,
        base=base,
        kind="self_evaluation",
        filed_by=base,
    )
    return await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.file_self_evaluation,
        FileSelfEvaluation(upload=upload, actuals=parsed),
        "filing the self-evaluation",
    )


@router.post("/bases/{base}/scores", status_code=201)
async def submit_scores(
    program: Program, year: Year, base: Base, body: ScoresBody, deps: DepsDep
) -> dict[str, Any]:
    score = SubmitScore(
        expert=body.expert, scores=body.scores, vetoes=body.vetoes, comment=body.comment
    )
    receipt = await _update(
        deps, program, year, base, AnnualCycleWorkflow.submit_score, score, "the scores"
    )
    if receipt.decision is None:
        return {"status": "recorded", "expert": body.expert}
    record = receipt.decision
    return {"status": "graded", "expert": body.expert, "total": record.total, "grade": record.grade}


@router.post("/bases/{base}/rectification", status_code=201)
async def file_rectification(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    file: Annotated[UploadFile, File(description="The rectification report (整改报告)")],
) -> Receipt:
    await _precheck(deps, program, year, base, "rectification")
    data = await read_limited(file, deps.settings.upload_max_bytes)
    upload = await store_upload(
        deps.objects,
        data=data,
        filename=file.filename or "",
        program=program,
        year=year,
        base=base,
        kind="rectification",
        filed_by=base,
    )
    return await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.file_rectification,
        FileRectification(upload=upload),
        "filing the rectification",
    )


@router.post("/bases/{base}/deadlines", status_code=200)
async def extend_deadline(
    program: Program, year: Year, base: Base, body: ExtensionBody, deps: DepsDep
) -> dict[str, str]:
    req = ExtendDeadline(
        deadline=body.deadline, until=body.until, reason=body.reason, by="province"
    )
    until = await _update(
        deps, program, year, base, AnnualCycleWorkflow.extend_deadline, req, "the extension"
    )
    return {"deadline": body.deadline, "until": until.isoformat()}
