"""The yearly cycle over HTTP: launch, year and cycle state, and every human input as an update.

A filing (plan, self-evaluation, rectification) answers 201 with its receipt once the cycle has
recorded it, or 202 Accepted once the cycle has accepted it (its validator ran and the update is
in the cycle's history) but has not finished recording it within ``update_answer_wait_s``: the
filing then completes on its own, and the client polls the cycle state at ``Location``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import UpdateRef, WaitPolicy
from temporalio.api.workflowservice.v1 import PollWorkflowExecutionUpdateRequest
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)

from services.gateway import need_to_know
from services.gateway.access import Action
from services.gateway.arrival_stamp import ArrivalDep
from services.gateway.auth import UserDep, assigned, base_of, require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.problem_docs import authenticated
from services.gateway.problems import ApiError
from services.gateway.public_models import (
    CyclePublic,
    DeadlineExtended,
    DeadlineWords,
    PlanReviewAnswer,
    ScoreAnswer,
)
from services.gateway.routes.params import Base, IdempotencyKey, Program, Year
from services.gateway.temporal_errors import call_workflow
from services.gateway.upload_cleanup import RefusedUpload
from services.gateway.upload_stream import StreamedUploads, staged_file
from services.gateway.uploads import check_filename, store_upload
from services.gateway.year_view import YearView, results_published, year_view
from shared.contracts import workflow_names as names
from shared.contracts.assessment import RosterQuery, RosterStatus
from shared.contracts.cycle import (
    UPDATE_RESULTS,
    Actor,
    CycleState,
    ExtendDeadline,
    FilePlan,
    FileRectification,
    FileSelfEvaluation,
    Receipt,
    ReviewPlan,
    ScoreReceipt,
    SubmitScore,
    Target,
    Targets,
    Upload,
)
from shared.contracts.registry import BasesPage, GetProgram, ListBasesRequest, PinnedRules
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.domain.admission import FilingKind
from shared.domain.errors import DEADLINE_PASSED
from shared.domain.participants import kind_chain
from shared.domain.wording import deadline_en, deadline_zh, end_en, end_zh
from shared.domain.year_size import too_large
from shared.starters import start_program_year

T = TypeVar("T")

# Filings and decisions (reviews, scores, extensions): how long the gateway waits for the cycle
# to accept the update (its validator ran in a workflow task). Generous, as acceptance queues
# behind every other filing in a deadline rush (bench/rush.py, 500 at once on 2 shared cores: up
# to 50 s from the request, the upload included); past it the worker is taken to be away: 503
# worker_unavailable. Accepted but not completed within update_answer_wait_s: 202.
ACCEPT_TIMEOUT = timedelta(seconds=60)
_ACCEPTED_STAGE = (
    UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
)
ACCEPTED_MESSAGE = (
    "已受理：材料已存储并记入本周期的流程记录，仍在处理中，请稍后查看周期状态。"
    " — Accepted: the filing is stored and durably recorded in the cycle's history, and is still"
    " being processed; poll the cycle state at Location, or retry with the same Idempotency-Key"
    " for the receipt."
)

# StreamedUploads: a filing's file streams to the object store as it arrives (upload_stream.py).
router = APIRouter(
    prefix="/v1/programs/{program}/years/{year}", tags=["cycles"], route_class=StreamedUploads
)
_targets: TypeAdapter[list[Target]] = TypeAdapter(Targets)
_actuals = TypeAdapter(dict[str, float])


class LaunchAccepted(BaseModel):
    workflow_id: str
    status: Literal["launched", "already_launched"]
    rules_version: int


class UpdateAccepted(BaseModel):
    """The answer 202 to a decision (a plan review, scores, an extension): the cycle accepted
    it and is still acting on it; retry with the same Idempotency-Key for its answer."""

    status: Literal["accepted"] = "accepted"
    message: str = Field(description="For a person, in Chinese and English")
    update_id: str = Field(
        description="The Temporal update id: idem:<Idempotency-Key> when one was sent"
    )
    location: str = Field(description="The cycle state to poll (also the Location header)")


class FilingAccepted(BaseModel):
    """The answer 202: the cycle accepted the filing and will record it without the client."""

    status: Literal["accepted"] = "accepted"
    message: str = Field(description="For a person, in Chinese and English")
    update_id: str = Field(
        description="The filing's Temporal update id: idem:<Idempotency-Key> when one was sent"
    )
    location: str = Field(description="The cycle state to poll (also the Location header)")
    document: Upload | None = Field(
        None,
        description=(
            "The stored upload (sha256, size, key) when this request carried it; the receipt's"
            " document_id and version appear in the cycle state's documents once recorded"
        ),
    )
    received_at: datetime | None = Field(
        None,
        description=(
            "When this request reached the gateway (the filing's arrival, by which its deadline"
            " is judged); on a retry, the retry's own arrival is not shown"
        ),
    )


_DECISION_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": UpdateAccepted,
        "description": "Accepted by the cycle, which is still acting on it",
        "headers": {"Location": {"description": "The cycle state", "schema": {"type": "string"}}},
    }
}
_ACCEPTED_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {
        "model": FilingAccepted,
        "description": "Accepted and recorded in the cycle's history, still being processed",
        "headers": {
            "Location": {
                "description": "The cycle state, to poll until the filing is recorded",
                "schema": {"type": "string"},
            }
        },
    }
}


class PlanReviewBody(BaseModel):
    decision: Literal["approve", "return"]
    comment: str = Field("", max_length=2000)
    step: Literal["city", "province", "national"] | None = Field(
        None, description="Optional; when given it must be the step the plan awaits"
    )
    take_over: bool = Field(
        False,
        description=(
            "A province_admin takes a silent step itself (the step's window has passed, or the"
            " rules handed it to the province); a reason is required"
        ),
    )
    reason: str = Field("", max_length=2000, description="Why the province takes the step")


class ScoresBody(BaseModel):
    scores: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        max_length=100,
        description=(
            "Per indicator key, a finite score on the rubric's scale (rubric.scale): points out"
            " of the indicator's maximum, or 0-100; above the maximum or below 0 is refused"
            " with invalid_scores / 按评分规则的计分方式打分，超过满分或低于0分不予接受"
        ),
    )
    vetoes: list[str] = Field(default_factory=list, max_length=20)
    comment: str = Field("", max_length=4000)


class ExtensionBody(BaseModel):
    deadline: Literal["plan", "plan_review", "self_evaluation", "review", "rectification"]
    until: datetime
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/launch", status_code=202, responses=authenticated(409))
async def launch(program: Program, year: Year, deps: DepsDep, user: UserDep) -> LaunchAccepted:
    await require(deps, user, "administer", program=program)
    pinned = await rpc(
        deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
    )
    roster = await rpc(
        deps.rpc.call(
            "assessment",
            "roster.check",
            RosterQuery(program=program, needed=pinned.rules.rubric.experts_required),
            RosterStatus,
        )
    )
    if not roster.ok:  # no cycle opens that could not be reviewed
        raise ApiError(
            409, "roster_too_short", roster.message or "", needed=roster.needed, size=roster.size
        )
    await _within_year_size(deps, program)
    status = await start_program_year(
        deps.temporal, program=program, year=year, task_queue=deps.settings.task_queue
    )
    return LaunchAccepted(
        workflow_id=program_year_id(program, year), status=status, rules_version=pinned.version
    )


async def _within_year_size(deps: Deps, program: str) -> None:
    """No year opens that its program year could not carry to the 公示: 409
    program_too_large above ``max_bases_per_year`` active bases."""
    limit = deps.settings.max_bases_per_year
    ask = ListBasesRequest(program=program, limit=1, count=True)
    page = await rpc(deps.rpc.call("registry", "bases.active", ask, BasesPage))
    problem = too_large(page.total or 0, limit)
    if problem is not None:
        raise ApiError(409, "program_too_large", problem, size=page.total, limit=limit)


@router.get("", responses=authenticated())
async def program_year(program: Program, year: Year, deps: DepsDep, user: UserDep) -> YearView:
    await require(deps, user, "read_program", program=program)
    return await year_view(deps, program, year, user)


def _cycle(deps: Deps, program: str, year: int, base: str) -> WorkflowHandle[Any, Any]:
    return deps.temporal.get_workflow_handle(cycle_id(program, year, base))


async def _state(deps: Deps, program: str, year: int, base: str) -> CycleState:
    handle = _cycle(deps, program, year, base)
    return await call_workflow(handle.query(names.STATE, result_type=CycleState), what="the cycle")


@router.get("/bases/{base}", responses=authenticated())
async def cycle_state(
    program: Program, year: Year, base: Base, deps: DepsDep, user: UserDep
) -> CyclePublic:
    """The cycle as the caller may see it (need to know), each deadline also in words."""
    found = await require(deps, user, "read_cycle", program=program, base=base, year=year)
    state = need_to_know.cycle_state(
        user,
        await _state(deps, program, year, base),
        region=found.region if found else "",
        published=await results_published(deps, program, year),
        assigned=await assigned(deps, user, program, year, base),
    )
    words = {}
    for name, until in state.deadlines.items():
        info = state.deadline_info.get(name)
        last_day, provisional = (info.last_day, info.provisional) if info else (None, False)
        words[name] = DeadlineWords(
            zh=deadline_zh(until, last_day, provisional=provisional),
            en=deadline_en(until, last_day, provisional=provisional),
        )
    return CyclePublic.of(state, words)


async def _with_deadline(
    deps: Deps, program: str, year: int, base: str, kind: FilingKind, exc: ApiError
) -> ApiError:
    """A filing refused as too late, with its deadline and the deadline in words (the portal
    says them): the cycle's validator names the refusal, the cycle's state the deadline. Read
    only for that refusal, so an accepted filing costs no query."""
    exc.extra.setdefault("filing", kind)
    if exc.code != DEADLINE_PASSED or "deadline_words" in exc.extra:
        return exc
    try:
        state = await _state(deps, program, year, base)
    except ApiError:
        return exc  # the refusal stands without the words
    due = state.deadlines.get(kind)
    if due is not None:
        info = state.deadline_info.get(kind)
        last_day = info.last_day if info else None
        exc.extra["deadline"] = due.isoformat()
        exc.extra["deadline_words"] = {"zh": end_zh(due, last_day), "en": end_en(due, last_day)}
    return exc


def _parse(adapter: TypeAdapter[Any], raw: str, code: str, what: str) -> Any:
    try:
        return adapter.validate_python(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        detail = exc.errors(include_url=False) if isinstance(exc, ValidationError) else str(exc)
        raise ApiError(
            422, code, f"{what} must be JSON of the documented shape: {detail}"
        ) from None


def actor_of(user: Principal) -> Actor:
    """Who acts, as the update carries it: the cycle checks it against its own state."""
    return Actor(name=user.name, role=user.role, base=user.base, region=user.region)


def scoped_key(user: Principal, action: str, key: str | None) -> str | None:
    """An Idempotency-Key is the caller's own, per action: one user's key never answers for
    another's request (an expert reusing a co-reviewer's key gets nothing of theirs)."""
    return f"{user.name}:{action}:{key}" if key else None


async def _start(
    cycle: WorkflowHandle[Any, Any], update: str, arg: Any, what: str, key: str | None
) -> WorkflowUpdateHandle[Any]:
    """Start the update and wait until the cycle accepts it: not accepted within
    ACCEPT_TIMEOUT is 503 worker_unavailable; a validator's refusal, its 4xx."""
    # The Idempotency-Key becomes the update id: Temporal applies one update id once.
    return await call_workflow(
        _within(
            ACCEPT_TIMEOUT.total_seconds(),
            cycle.start_update(
                update,
                arg,
                id=f"idem:{key}" if key else None,
                result_type=UPDATE_RESULTS[update],
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                rpc_timeout=ACCEPT_TIMEOUT,
            ),
        ),
        what=what,
    )


async def _decide(
    deps: Deps,
    program: str,
    year: int,
    base: str,
    update: str,
    request: Callable[[], Awaitable[Any]],
    what: str,
    key: str | None,
) -> tuple[Any, Any]:
    """A decision (a review, scores, an extension): the earlier outcome of a retry with this
    Idempotency-Key, or else ``request()``'s argument (it checks what it must first) started as
    the update, and its result if it completes within ``update_answer_wait_s``. Returns the
    outcome (``_Pending`` when it is still processing: answer with ``_still_processing``) and
    the argument (None for a retry): a slow worker never turns an accepted decision into a
    503."""
    earlier = await _replayed(deps, program, year, base, key, UPDATE_RESULTS[update])
    if earlier is not None:
        return earlier, None
    arg = await request()
    started = await _start(_cycle(deps, program, year, base), update, arg, what, key)
    wait = deps.settings.update_answer_wait_s
    return await call_workflow(_result_within(started, wait), what=what), arg


async def _given(arg: T) -> T:
    """An update's argument that needs no check before it is sent."""
    return arg


async def _replayed(
    deps: Deps, program: str, year: int, base: str, key: str | None, result_type: type
) -> Any:
    """The outcome of an earlier request with this Idempotency-Key (``_Pending`` while it is
    still being processed), or ``None`` if there was none. A retry gets the first answer, even
    when the cycle has moved on since."""
    if not key:
        return None
    handle = _cycle(deps, program, year, base).get_update_handle(
        f"idem:{key}", result_type=result_type
    )
    try:
        completed = await call_workflow(
            _within(ACCEPT_TIMEOUT.total_seconds(), _until_accepted(deps.temporal, handle)),
            what="the retry",
        )
    except ApiError as exc:
        if exc.code == "cycle_not_found":
            return None  # no such update yet: this is the first request
        raise
    wait = ACCEPT_TIMEOUT.total_seconds() if completed else deps.settings.update_answer_wait_s
    return await call_workflow(_result_within(handle, wait), what="the retry")


def _still_processing(program: str, year: int, base: str, pending: _Pending) -> JSONResponse:
    """202: the cycle accepted the decision and is still acting on it."""
    location = f"/v1/programs/{program}/years/{year}/bases/{base}"
    body = UpdateAccepted(message=ACCEPTED_MESSAGE, update_id=pending.update_id, location=location)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": location}
    )


# ------------------------------------------------------------------------- filings


@dataclass(frozen=True)
class _Pending:
    """A filing the cycle accepted and is still recording when the answer wait ran out."""

    update_id: str


async def _within(seconds: float, awaitable: Awaitable[T]) -> T:
    """``awaitable``, bounded in time; running out is the Temporal client's own update timeout,
    which ``call_workflow`` answers with 503 worker_unavailable."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise WorkflowUpdateRPCTimeoutOrCancelledError() from None


async def _result_within(handle: WorkflowUpdateHandle[Any], seconds: float) -> Any:
    """The accepted update's result, or ``_Pending`` if it has not completed after ``seconds``.

    An outcome that came back with the acceptance (a validator's refusal, an update already done)
    is returned or raised before any wait: ``result()`` does not suspend then, and the timeout
    can only interrupt at a suspension, so a refusal is never hidden behind a 202, even at 0 s.
    """
    limit = asyncio.timeout(seconds)
    try:
        async with limit:
            return await handle.result()
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # The SDK turns the cancellation of its poll into its own timeout error.
        if limit.expired():
            return _Pending(handle.id)
        raise


async def _until_accepted(client: Client, handle: WorkflowUpdateHandle[Any]) -> bool:
    """Wait until the update is accepted; whether it has completed too. No such update (or no
    such cycle) is an RPC NOT_FOUND; one no worker accepts within ACCEPT_TIMEOUT, CANCELLED."""
    request = PollWorkflowExecutionUpdateRequest(
        namespace=client.namespace,
        update_ref=UpdateRef(
            workflow_execution=WorkflowExecution(
                workflow_id=handle.workflow_id, run_id=handle.workflow_run_id or ""
            ),
            update_id=handle.id,
        ),
        identity=client.identity,
        wait_policy=WaitPolicy(lifecycle_stage=_ACCEPTED_STAGE),
    )
    while True:
        polled = await client.workflow_service.poll_workflow_execution_update(
            request, retry=True, timeout=ACCEPT_TIMEOUT
        )
        if polled.HasField("outcome"):
            return True
        if polled.stage >= _ACCEPTED_STAGE:
            return False


async def _filing(
    deps: Deps,
    user: Principal,
    program: str,
    year: int,
    base: str,
    kind: FilingKind,
    file: UploadFile,
    received_at: datetime,
) -> Upload:
    # The file is staged already (within the size limit); it gets its content key now, and is
    # removed again if the cycle refuses the filing (RefusedUpload): the cycle's validator is
    # the one judge, and an accepted filing costs the engine no query.
    staged = staged_file(file)
    check_filename(staged.filename or "")
    return await store_upload(
        deps.objects,
        file=staged,
        program=program,
        year=year,
        base=base,
        kind=kind,
        filed_by=user.name,
    )


def _accepted(
    program: str,
    year: int,
    base: str,
    pending: _Pending,
    upload: Upload | None,
    received_at: datetime | None,
) -> JSONResponse:
    location = f"/v1/programs/{program}/years/{year}/bases/{base}"
    body = FilingAccepted(
        message=ACCEPTED_MESSAGE,
        update_id=pending.update_id,
        location=location,
        document=upload,
        received_at=received_at,
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": location}
    )


async def _file(
    deps: Deps,
    user: Principal,
    program: str,
    year: int,
    base: str,
    kind: FilingKind,
    file: UploadFile,
    received_at: datetime,
    update: str,
    request: Callable[[Upload], Any],
    what: str,
    key: str | None,
) -> Any:
    """A filing: 201 with the receipt once recorded, 202 once accepted and still recording.

    ``received_at`` is when the request reached the gateway, before its upload was read: the
    update carries it (``request`` puts it in), and the cycle judges the deadline by it.

    A retry with the same Idempotency-Key is answered from the first request's update (its
    receipt, or 202 while it runs); its staged bytes are dropped. A first request is checked
    against the cycle's state before its bytes get their key (the validator still decides), then
    started as an update that must be accepted within ACCEPT_TIMEOUT (else 503), and answered
    with its result if it completes within ``update_answer_wait_s``.
    """
    await require(deps, user, "file", program=program, base=base, year=year)
    key = scoped_key(user, kind, key)
    earlier = await _replayed(deps, program, year, base, key, Receipt)
    if isinstance(earlier, _Pending):
        return _accepted(program, year, base, earlier, None, None)
    if earlier is not None:
        return earlier
    upload = await _filing(deps, user, program, year, base, kind, file, received_at)
    try:
        return await _recorded(
            deps, program, year, base, upload, received_at, update, request, what, key
        )
    except ApiError as exc:
        raise await _with_deadline(deps, program, year, base, kind, exc) from None


async def _recorded(
    deps: Deps,
    program: str,
    year: int,
    base: str,
    upload: Upload,
    received_at: datetime,
    update: str,
    request: Callable[[Upload], Any],
    what: str,
    key: str | None,
) -> Any:
    """The filing's update: accepted within ACCEPT_TIMEOUT (else 503), answered with its result
    if it completes within ``update_answer_wait_s``, else 202; a refused upload is removed."""
    cycle = _cycle(deps, program, year, base)
    refused = RefusedUpload(deps, cycle, program, year, base, upload)  # then not left stored
    started = await refused.on_refusal(_start(cycle, update, request(upload), what, key))
    wait = deps.settings.update_answer_wait_s
    outcome = await refused.on_refusal(call_workflow(_result_within(started, wait), what=what))
    if isinstance(outcome, _Pending):
        return _accepted(program, year, base, outcome, upload, received_at)
    if isinstance(outcome, Receipt) and outcome.received_at is None:
        # A worker that predates arrival stamps: the arrival is still this request's.
        return outcome.model_copy(update={"received_at": received_at})
    return outcome


@router.post(
    "/bases/{base}/plan",
    status_code=201,
    response_model=Receipt,
    responses={**_ACCEPTED_RESPONSE, **authenticated(409, 413, 415)},
)
async def file_plan(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: UserDep,
    file: Annotated[UploadFile, File(description="The implementation plan (实施方案)")],
    targets: Annotated[str, Form(description="JSON list of {key, name, target, unit}")],
    arrived: ArrivalDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    parsed = _parse(_targets, targets, "invalid_targets", "targets")
    return await _file(
        deps,
        user,
        program,
        year,
        base,
        "plan",
        file,
        arrived,
        names.FILE_PLAN,
        lambda upload: FilePlan(
            upload=upload, targets=parsed, received_at=arrived, actor=actor_of(user)
        ),
        "filing the plan",
        idempotency_key,
    )


async def _verify_action(
    deps: Deps, user: Principal, program: str, base: str, step: str, taken_over: bool
) -> Action:
    """Whose step it is (workflows/authority.py): the city's, the province's (in a kind's
    chain also its province's officer), the national (the admin of a program issued at
    000000)."""
    if step == "national":
        return "verify_national"
    if step == "city" and not taken_over:
        return "verify_city"
    if (
        step == "province"
        and user.role == "city_officer"
        and await _kind_chain(deps, program, base)
    ):
        return "verify_kind_province"
    return "verify_province"


async def _kind_chain(deps: Deps, program: str, base: str) -> bool:
    """The base's kind runs a chain of its own (a national or an aggregation step)."""
    found = await base_of(deps, program, base)
    pinned = await rpc(
        deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
    )
    return kind_chain(pinned.rules, found.kind) is not None


async def _plan_review(
    deps: Deps, user: Principal, program: str, year: int, base: str, body: PlanReviewBody
) -> ReviewPlan:
    """The review the cycle is asked to record: the step it awaits, checked against who
    reviews and what the body says (a first request only: a retry is answered before)."""
    state = await _state(deps, program, year, base)
    step = state.verification_step
    if step is None:
        raise ApiError(
            409, "wrong_stage", f"no plan awaits verification: stage {state.stage.value}"
        )
    # A silent city step may be taken by the province: it acts with its own right.
    taken_over = body.take_over and step == "city"
    action = await _verify_action(deps, user, program, base, step, taken_over)
    await require(deps, user, action, program=program, base=base, year=year)
    if body.step is not None and body.step != step:
        raise ApiError(409, "wrong_stage", f"the plan awaits the {step} step, not {body.step}")
    if taken_over and not body.reason.strip():
        raise ApiError(
            422, "reason_required", "taking over a step needs a reason / 代为核实须说明理由"
        )
    return ReviewPlan(
        step=step,
        decision=body.decision,
        comment=body.comment,
        reviewer=user.name,
        taken_over=taken_over,
        reason=body.reason,
        actor=actor_of(user),
    )


@router.post(
    "/bases/{base}/plan/review",
    status_code=200,
    response_model=PlanReviewAnswer,
    responses={**_DECISION_ACCEPTED, **authenticated(409)},
)
async def review_plan(
    program: Program,
    year: Year,
    base: Base,
    body: PlanReviewBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    # Who may verify at all is checked before a key is replayed or the cycle is read; which
    # step they may take, once the cycle says which is pending.
    verifier: Action = "verify_province" if user.role == "province_admin" else "verify_city"
    await require(deps, user, verifier, program=program, base=base, year=year)
    idempotency_key = scoped_key(user, "plan_review", idempotency_key)
    stage, reviewed = await _decide(
        deps,
        program,
        year,
        base,
        names.REVIEW_PLAN,
        lambda: _plan_review(deps, user, program, year, base, body),
        "the plan review",
        idempotency_key,
    )
    if isinstance(stage, _Pending):
        return _still_processing(program, year, base, stage)
    step = reviewed.step if reviewed is not None else body.step or ""
    return PlanReviewAnswer(step=step, decision=body.decision, stage=stage)


@router.post(
    "/bases/{base}/self-evaluation",
    status_code=201,
    response_model=Receipt,
    responses={**_ACCEPTED_RESPONSE, **authenticated(409, 413, 415)},
)
async def file_self_evaluation(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: UserDep,
    file: Annotated[UploadFile, File(description="The self-evaluation report (年度自评报告)")],
    arrived: ArrivalDep,
    actuals: Annotated[str, Form(description="JSON object {target key: actual value}")] = "{}",
    idempotency_key: IdempotencyKey = None,
) -> Any:
    parsed = _parse(_actuals, actuals, "invalid_actuals", "actuals")
    return await _file(
        deps,
        user,
        program,
        year,
        base,
        "self_evaluation",
        file,
        arrived,
        names.FILE_SELF_EVALUATION,
        lambda upload: FileSelfEvaluation(
            upload=upload, actuals=parsed, received_at=arrived, actor=actor_of(user)
        ),
        "filing the self-evaluation",
        idempotency_key,
    )


@router.post(
    "/bases/{base}/scores",
    status_code=201,
    response_model=ScoreAnswer,
    responses={**_DECISION_ACCEPTED, **authenticated(409)},
)
async def submit_scores(
    program: Program,
    year: Year,
    base: Base,
    body: ScoresBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    await require(deps, user, "score", program=program, base=base, year=year)
    idempotency_key = scoped_key(user, "score", idempotency_key)
    scores = SubmitScore(
        expert=user.name,
        scores=body.scores,
        vetoes=body.vetoes,
        comment=body.comment,
        actor=actor_of(user),
    )
    receipt, _ = await _decide(
        deps,
        program,
        year,
        base,
        names.SUBMIT_SCORE,
        lambda: _given(scores),
        "the scores",
        idempotency_key,
    )
    if isinstance(receipt, _Pending):
        return _still_processing(program, year, base, receipt)
    return _score_answer(receipt, user.name)


def _score_answer(receipt: ScoreReceipt, expert: str) -> ScoreAnswer:
    if receipt.decision is None:
        return ScoreAnswer(status="recorded", expert=expert)
    record = receipt.decision
    return ScoreAnswer(status="graded", expert=expert, total=record.total, grade=record.grade)


@router.post(
    "/bases/{base}/rectification",
    status_code=201,
    response_model=Receipt,
    responses={**_ACCEPTED_RESPONSE, **authenticated(409, 413, 415)},
)
async def file_rectification(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: UserDep,
    file: Annotated[UploadFile, File(description="The rectification report (整改报告)")],
    arrived: ArrivalDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return await _file(
        deps,
        user,
        program,
        year,
        base,
        "rectification",
        file,
        arrived,
        names.FILE_RECTIFICATION,
        lambda upload: FileRectification(upload=upload, received_at=arrived, actor=actor_of(user)),
        "filing the rectification",
        idempotency_key,
    )


@router.post(
    "/bases/{base}/deadlines",
    status_code=200,
    response_model=DeadlineExtended,
    responses={**_DECISION_ACCEPTED, **authenticated(409)},
)
async def extend_deadline(
    program: Program,
    year: Year,
    base: Base,
    body: ExtensionBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    await require(deps, user, "administer", program=program, base=base, year=year)
    if body.until.tzinfo is None:
        raise ApiError(
            422, "invalid_extension", "until needs a time zone, e.g. 2026-05-01T00:00:00+08:00"
        )
    idempotency_key = scoped_key(user, "extend", idempotency_key)
    extension = ExtendDeadline(
        deadline=body.deadline,
        until=body.until,
        reason=body.reason,
        by=user.name,
        actor=actor_of(user),
    )
    until, _ = await _decide(
        deps,
        program,
        year,
        base,
        names.EXTEND_DEADLINE,
        lambda: _given(extension),
        "the extension",
        idempotency_key,
    )
    if isinstance(until, _Pending):
        return _still_processing(program, year, base, until)
    return DeadlineExtended(deadline=body.deadline, until=until, reason=body.reason)
