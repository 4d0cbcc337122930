"""The yearly cycle over HTTP: launch, year and cycle state, and every human input as an update."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from temporalio.client import WorkflowHandle

from services.gateway.access import Action
from services.gateway.auth import UserDep, require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.problems import ApiError
from services.gateway.routes.params import Base, IdempotencyKey, Program, Year
from services.gateway.temporal_errors import call_workflow
from services.gateway.uploads import check_filename, read_limited, store_upload
from services.gateway.year_view import YearView, year_view
from shared.contracts.registry import PinnedRules
from shared.domain.stages import Stage
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
    Receipt,
    ReviewPlan,
    RulesRequest,
    ScoreReceipt,
    SubmitScore,
    Target,
    Targets,
)
from workflows.starters import start_program_year

UPDATE_TIMEOUT = timedelta(seconds=20)

router = APIRouter(prefix="/v1/programs/{program}/years/{year}", tags=["cycles"])
_targets: TypeAdapter[list[Target]] = TypeAdapter(Targets)
_actuals = TypeAdapter(dict[str, float])


class LaunchAccepted(BaseModel):
    workflow_id: str
    status: Literal["launched", "already_launched"]
    rules_version: int


class PlanReviewBody(BaseModel):
    decision: Literal["approve", "return"]
    comment: str = Field("", max_length=2000)
    step: Literal["city", "province"] | None = Field(
        None, description="Optional; when given it must be the step the plan awaits"
    )


class ScoresBody(BaseModel):
    scores: dict[str, float] = Field(max_length=100)
    vetoes: list[str] = Field(default_factory=list, max_length=20)
    comment: str = Field("", max_length=4000)


class ExtensionBody(BaseModel):
    deadline: Literal["plan", "plan_review", "self_evaluation", "review", "rectification"]
    until: datetime
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/launch", status_code=202)
async def launch(program: Program, year: Year, deps: DepsDep, user: UserDep) -> LaunchAccepted:
    await require(deps, user, "administer", program=program)
    pinned = await rpc(
        deps.rpc.call("registry", "rules.current", RulesRequest(program=program), PinnedRules)
    )
    status = await start_program_year(
        deps.temporal, program=program, year=year, task_queue=deps.settings.task_queue
    )
    return LaunchAccepted(
        workflow_id=program_year_id(program, year), status=status, rules_version=pinned.version
    )


@router.get("")
async def program_year(program: Program, year: Year, deps: DepsDep, user: UserDep) -> YearView:
    await require(deps, user, "read_program", program=program)
    return await year_view(deps, program, year)


def _cycle(deps: Deps, program: str, year: int, base: str) -> WorkflowHandle[Any, Any]:
    return deps.temporal.get_workflow_handle(cycle_id(program, year, base))


async def _state(deps: Deps, program: str, year: int, base: str) -> CycleState:
    handle = _cycle(deps, program, year, base)
    return await call_workflow(handle.query(AnnualCycleWorkflow.state), what="the cycle")


@router.get("/bases/{base}")
async def cycle_state(
    program: Program, year: Year, base: Base, deps: DepsDep, user: UserDep
) -> CycleState:
    await require(deps, user, "read_cycle", program=program, base=base, year=year)
    return await _state(deps, program, year, base)


async def _precheck(deps: Deps, program: str, year: int, base: str, kind: FilingKind) -> None:
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
        detail = exc.errors(include_url=False) if isinstance(exc, ValidationError) else str(exc)
        raise ApiError(
            422, code, f"{what} must be JSON of the documented shape: {detail}"
        ) from None


async def _update(
    deps: Deps,
    program: str,
    year: int,
    base: str,
    update: Any,
    arg: Any,
    what: str,
    key: str | None,
) -> Any:
    handle = _cycle(deps, program, year, base)
    # The Idempotency-Key becomes the update id: Temporal applies one update id once.
    update_id = f"idem:{key}" if key else None
    return await call_workflow(
        handle.execute_update(update, arg, id=update_id, rpc_timeout=UPDATE_TIMEOUT), what=what
    )


async def _replayed(
    deps: Deps, program: str, year: int, base: str, key: str | None, result_type: type
) -> Any:
    """The outcome of an earlier request with this Idempotency-Key, or ``None`` if there was
    none. A retry gets the first answer, even when the cycle has moved on since."""
    if not key:
        return None
    handle = _cycle(deps, program, year, base).get_update_handle(
        f"idem:{key}", result_type=result_type
    )
    try:
        return await call_workflow(handle.result(rpc_timeout=UPDATE_TIMEOUT), what="the retry")
    except ApiError as exc:
        if exc.code == "cycle_not_found":
            return None  # no such update yet: this is the first request
        raise


async def _filing(
    deps: Deps,
    user: Principal,
    program: str,
    year: int,
    base: str,
    kind: FilingKind,
    file: UploadFile,
) -> Any:
    await require(deps, user, "file", program=program, base=base, year=year)
    check_filename(file.filename or "")
    await _precheck(deps, program, year, base, kind)
    data = await read_limited(file, deps.settings.upload_max_bytes)
    return await store_upload(
        deps.objects,
        data=data,
        filename=file.filename or "",
        program=program,
        year=year,
        base=base,
        kind=kind,
        filed_by=user.name,
    )


@router.post("/bases/{base}/plan", status_code=201)
async def file_plan(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: UserDep,
    file: Annotated[UploadFile, File(description="The implementation plan (实施方案)")],
    targets: Annotated[str, Form(description="JSON list of {key, name, target, unit}")],
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    parsed = _parse(_targets, targets, "invalid_targets", "targets")
    await require(deps, user, "file", program=program, base=base, year=year)
    if (done := await _replayed(deps, program, year, base, idempotency_key, Receipt)) is not None:
        return done  # type: ignore[no-any-return]
    upload = await _filing(deps, user, program, year, base, "plan", file)
    return await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.file_plan,
        FilePlan(upload=upload, targets=parsed),
        "filing the plan",
        idempotency_key,
    )


@router.post("/bases/{base}/plan/review", status_code=200)
async def review_plan(
    program: Program,
    year: Year,
    base: Base,
    body: PlanReviewBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, str]:
    if (stage := await _replayed(deps, program, year, base, idempotency_key, Stage)) is not None:
        return {"step": body.step or "", "decision": body.decision, "stage": str(stage)}
    state = await _state(deps, program, year, base)
    step = state.verification_step
    if step is None:
        raise ApiError(
            409, "wrong_stage", f"no plan awaits verification: stage {state.stage.value}"
        )
    action: Action = "verify_city" if step == "city" else "verify_province"
    await require(deps, user, action, program=program, base=base, year=year)
    if body.step is not None and body.step != step:
        raise ApiError(409, "wrong_stage", f"the plan awaits the {step} step, not {body.step}")
    review = ReviewPlan(step=step, decision=body.decision, comment=body.comment, reviewer=user.name)
    stage = await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.review_plan,
        review,
        "the plan review",
        idempotency_key,
    )
    return {"step": step, "decision": body.decision, "stage": str(stage)}


@router.post("/bases/{base}/self-evaluation", status_code=201)
async def file_self_evaluation(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: UserDep,
    file: Annotated[UploadFile, File(description="The self-evaluation report (年度自评报告)")],
    actuals: Annotated[str, Form(description="JSON object {target key: actual value}")] = "{}",
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    parsed = _parse(_actuals, actuals, "invalid_actuals", "actuals")
    await require(deps, user, "file", program=program, base=base, year=year)
    if (done := await _replayed(deps, program, year, base, idempotency_key, Receipt)) is not None:
        return done  # type: ignore[no-any-return]
    upload = await _filing(deps, user, program, year, base, "self_evaluation", file)
    return await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.file_self_evaluation,
        FileSelfEvaluation(upload=upload, actuals=parsed),
        "filing the self-evaluation",
        idempotency_key,
    )


@router.post("/bases/{base}/scores", status_code=201)
async def submit_scores(
    program: Program,
    year: Year,
    base: Base,
    body: ScoresBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    await require(deps, user, "score", program=program, base=base, year=year)
    receipt = await _replayed(deps, program, year, base, idempotency_key, ScoreReceipt)
    if receipt is None:
        receipt = await _update(
            deps,
            program,
            year,
            base,
            AnnualCycleWorkflow.submit_score,
            SubmitScore(
                expert=user.name, scores=body.scores, vetoes=body.vetoes, comment=body.comment
            ),
            "the scores",
            idempotency_key,
        )
    return _score_answer(receipt, user.name)


def _score_answer(receipt: ScoreReceipt, expert: str) -> dict[str, Any]:
    if receipt.decision is None:
        return {"status": "recorded", "expert": expert}
    record = receipt.decision
    return {"status": "graded", "expert": expert, "total": record.total, "grade": record.grade}


@router.post("/bases/{base}/rectification", status_code=201)
async def file_rectification(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: UserDep,
    file: Annotated[UploadFile, File(description="The rectification report (整改报告)")],
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    await require(deps, user, "file", program=program, base=base, year=year)
    if (done := await _replayed(deps, program, year, base, idempotency_key, Receipt)) is not None:
        return done  # type: ignore[no-any-return]
    upload = await _filing(deps, user, program, year, base, "rectification", file)
    return await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.file_rectification,
        FileRectification(upload=upload),
        "filing the rectification",
        idempotency_key,
    )


@router.post("/bases/{base}/deadlines", status_code=200)
async def extend_deadline(
    program: Program,
    year: Year,
    base: Base,
    body: ExtensionBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, str]:
    await require(deps, user, "administer", program=program, base=base, year=year)
    if body.until.tzinfo is None:
        raise ApiError(
            422, "invalid_extension", "until needs a time zone, e.g. 2026-05-01T00:00:00+08:00"
        )
    req = ExtendDeadline(deadline=body.deadline, until=body.until, reason=body.reason, by=user.name)
    until = await _update(
        deps,
        program,
        year,
        base,
        AnnualCycleWorkflow.extend_deadline,
        req,
        "the extension",
        idempotency_key,
    )
    return {"deadline": body.deadline, "until": until.isoformat(), "reason": body.reason}
