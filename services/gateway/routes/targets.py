"""Program-level target reports (issue 16) over HTTP: the province admin of a program reports a
year's actuals against its program-level targets and gets the progress back.

The report lives in the program year's workflow (update ``report_target_actuals``, see
``shared/contracts/targets.py``), which checks it against the rules the year pinned and refuses
``invalid_input`` with the reason; here the reason is the answer's code: ``unknown_target``
(a key the program has no program-level target for) or ``invalid_actual`` (a value of the
wrong shape), both 422 with the keys at fault. A year whose workflow has ended is 409
``year_closed``; a year never launched, 404 ``program_year_not_found``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import audited
from services.gateway.auth import UserDep, require
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.problem_docs import authenticated
from services.gateway.problems import ApiError
from services.gateway.program_year_updates import update_year, year_closed
from services.gateway.routes.params import IdempotencyKey, Program, Year
from services.gateway.temporal_errors import call_workflow
from shared import audit
from shared.contracts import workflow_names as names
from shared.contracts.targets import ReportTargetActuals, TargetProgressView
from shared.contracts.workflow_names import program_year_id

router = APIRouter(prefix="/v1/programs/{program}/years/{year}", tags=["targets"])

_CLOSED = year_closed("目标实际值", "target actuals")


class ActualsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actuals: dict[str, Any] = Field(
        description="目标键 → 本年度实际值 — the year's actual by target key: a number (at least"
        " 0), true/false for a milestone, {numerator, denominator} for a ratio"
    )


def _refusal(exc: ApiError) -> ApiError:
    """The workflow's ``invalid_input`` with a report's reason, under the reason's own code."""
    reason, keys = exc.extra.get("reason"), exc.extra.get("keys", [])
    if exc.code != "invalid_input":
        return exc
    if reason == "unknown_target":
        return ApiError(422, "unknown_target", exc.detail, keys=keys)
    if reason == "invalid_actual":
        return ApiError(422, "invalid_actual", exc.detail, keys=keys)
    return exc


async def _audit(
    deps: Deps, user: Principal, program: str, year: int, view: TargetProgressView
) -> None:
    event = audit.operator_action(
        actor=user.name,
        via="api",
        action="targets.report",
        target=f"targets/{program}/{year}",
        arguments={"revision": view.revision, "keys": sorted(view.actuals), "role": user.role},
        program=program,
        year=year,
    )
    await audited.record(deps, event, f"revision {view.revision} of the report")


@router.put(
    "/target-actuals",
    response_model=TargetProgressView,
    responses=authenticated(404, 409, 422),
)
async def report_target_actuals(
    program: Program,
    year: Year,
    body: ActualsBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> TargetProgressView:
    """报告项目级目标实际值 — the year's actuals against the program-level targets, by the
    program's province admin: kept (the same actuals again change nothing; others replace
    them as a new revision) and answered with the progress to each target's horizon."""
    await require(deps, user, "administer", program=program)
    handle = deps.temporal.get_workflow_handle(program_year_id(program, year))
    req = ReportTargetActuals(actuals=body.actuals, by=user.name)
    try:
        reported = update_year(
            handle,
            names.REPORT_TARGET_ACTUALS,
            req,
            update_id=f"target-actuals:{idempotency_key}" if idempotency_key else None,
            result_type=TargetProgressView,
            closed=_CLOSED,
        )
        view = await call_workflow(reported, what="the report")
    except ApiError as exc:
        raise _refusal(exc) from None
    await _audit(deps, user, program, year, view)
    return view
