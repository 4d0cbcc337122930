"""Programs and their bases: rules versions, registration with eligibility, listings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query

from services.gateway import audited
from services.gateway.auth import UserDep, base_of, require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.problem_docs import authenticated
from services.gateway.problems import ApiError
from services.gateway.public_models import Rubric
from services.gateway.routes.params import Program
from shared import audit
from shared.contracts.registry import (
    ApplyRules,
    BaseList,
    BasePublic,
    BaseRegistration,
    BaseStatus,
    GetProgram,
    ListBases,
    PinnedRules,
    RegisterBase,
    RulesApplied,
)
from shared.domain.grading import rubric_scale_description
from shared.domain.regions import is_within
from shared.logging import get_logger
from shared.paging import MAX_PAGE
from shared.schedules import ensure_program_schedule

router = APIRouter(prefix="/v1/programs/{program}", tags=["programs"])
log = get_logger("gateway")


@router.put("", status_code=200, responses=authenticated())
async def apply_rules(
    program: Program,
    deps: DepsDep,
    user: UserDep,
    document: dict[str, Any] = Body(description="The program rules document (JSON)"),
) -> RulesApplied:
    await require(deps, user, "administer", program=program)
    if document.get("id") != program:
        raise ApiError(422, "program_id_mismatch", f"the document's id must be {program!r}")
    applied = await rpc(
        deps.rpc.call("registry", "rules.apply", ApplyRules(document=document), RulesApplied)
    )
    pinned = await rpc(
        deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
    )
    await _audit(deps, user, applied, pinned)
    await ensure_program_schedule(deps.temporal, pinned.rules, deps.settings.task_queue)
    log.info("rules.applied", program=program, version=applied.version, by=user.name)
    return applied


async def _audit(deps: Deps, user: Principal, applied: RulesApplied, pinned: PinnedRules) -> None:
    event = audit.operator_action(
        actor=user.name,
        via="api",
        action="program.apply",
        target=f"program/{applied.program}",
        arguments={**audit.rules_applied(applied, pinned), "role": user.role},
        program=applied.program,
    )
    # The rules are stored; the answer says plainly if the audit record is what failed.
    await audited.record(deps, event, f"version {applied.version}")


@router.get("", responses=authenticated())
async def get_program(program: Program, deps: DepsDep, user: UserDep) -> PinnedRules:
    await require(deps, user, "read_program", program=program)
    return await rpc(
        deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
    )


@router.get("/rubric", responses=authenticated())
async def get_rubric(program: Program, deps: DepsDep, user: UserDep) -> Rubric:
    """The rubric as experts enter scores on it: the scale, each indicator's maximum, the
    rounding, the veto items with their definitions and what a veto leads to."""
    await require(deps, user, "read_program", program=program)
    pinned = await rpc(
        deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
    )
    return Rubric.model_validate(rubric_scale_description(pinned.rules.rubric))


@router.post("/bases", status_code=201, responses=authenticated(409))
async def register_base(
    program: Program, body: BaseRegistration, deps: DepsDep, user: UserDep
) -> BasePublic:
    await require(deps, user, "administer", program=program)
    return await rpc(
        deps.rpc.call(
            "registry",
            "bases.register",
            RegisterBase(program=program, registration=body),
            BasePublic,
        )
    )


@router.get("/bases", responses=authenticated())
async def list_bases(
    program: Program,
    deps: DepsDep,
    user: UserDep,
    status: BaseStatus | None = None,
    region: str | None = Query(None, pattern=r"^\d{6}$"),
    cursor: str | None = Query(
        None, max_length=64, description="the next_cursor of the page before / 上一页的 next_cursor"
    ),
    limit: int = Query(MAX_PAGE, ge=1, le=MAX_PAGE, description="bases per page / 每页基地数"),
) -> BaseList:
    """A page of the program's bases in id order; ``next_cursor`` when more follow."""
    await require(deps, user, "read_program", program=program)
    if user.role == "base_user":  # its own base, wherever it falls in the pages
        own = (await base_of(deps, program, user.base or "")).model_dump(mode="json")
        wanted = (status is None or own["status"] == status) and (
            region is None or is_within(str(own["region"]), region)
        )
        return BaseList(bases=[own] if wanted else [])
    regional = user.role in ("city_officer", "viewer", "operator") and user.region is not None
    if regional:
        region = region or user.region
    listed = await rpc(
        deps.rpc.call(
            "registry",
            "bases.list",
            ListBases(program=program, status=status, region=region, cursor=cursor, limit=limit),
            BaseList,
        )
    )
    if regional and user.region:
        listed.bases = [b for b in listed.bases if is_within(str(b["region"]), user.region)]
    return listed
