"""A province_admin's decisions on bases and reviews: reinstating a de-listed base, and
reassigning the experts of an open review. Each is audited with the user and the reason."""

from __future__ import annotations

from fastapi import APIRouter
from nats.errors import Error as NatsError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.gateway import audited
from services.gateway.auth import UserDep, require, rpc
from services.gateway.deps import DepsDep
from services.gateway.problem_docs import authenticated
from services.gateway.routes.params import Base, Program, Year
from shared import audit
from shared.contracts.assessment import Assignments, ReassignExperts
from shared.contracts.registry import Reinstate, Reinstated
from shared.logging import get_logger
from shared.reinstatement import record_reinstatement

router = APIRouter(prefix="/v1/programs/{program}", tags=["bases"])
log = get_logger("gateway")


class ReinstateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000, description="恢复理由 — why, for the record")


class ReassignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    replace: list[str] | None = Field(None, max_length=50, description="Experts to replace")
    keep: list[str] | None = Field(None, max_length=50, description="Or: the experts who stay")
    round: int | None = Field(None, ge=0, description="Default: the latest round")
    reason: str = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_list(self) -> ReassignBody:
        if (self.keep is None) == (self.replace is None):
            raise ValueError("give exactly one of replace or keep")
        return self


@router.post("/bases/{base}/reinstate", responses=authenticated(409))
async def reinstate_base(
    program: Program, base: Base, body: ReinstateBody, deps: DepsDep, user: UserDep
) -> Reinstated:
    """Bring a de-listed base back (409 ``not_delisted``, ``reapplication_ban_running``,
    ``domain_taken``); published as ``base.reinstated`` and audited."""
    await require(deps, user, "administer", program=program, base=base)
    done: Reinstated = await rpc(
        deps.rpc.call(
            "registry",
            "bases.reinstate",
            Reinstate(program=program, base=base, reason=body.reason, by=user.name),
            Reinstated,
        )
    )
    try:
        await record_reinstatement(
            deps.nats.jetstream(), done, actor=user.name, via="api", role=user.role
        )
    except NatsError as exc:
        raise audited.failed(f"the reinstatement of {base}", exc) from None
    log.info("base.reinstated", program=program, base=base, by=user.name)
    return done


@router.post("/years/{year}/bases/{base}/review/experts", responses=authenticated(409))
async def reassign_experts(
    program: Program, year: Year, base: Base, body: ReassignBody, deps: DepsDep, user: UserDep
) -> Assignments:
    """Give the places of the named experts (or of all but ``keep``) to the next experts on the
    roster (409 ``roster_too_short``, 422 ``not_assigned``); audited."""
    await require(deps, user, "administer", program=program, base=base)
    done: Assignments = await rpc(
        deps.rpc.call(
            "assessment",
            "assignments.reassign",
            ReassignExperts(
                program=program,
                year=year,
                base=base,
                round=body.round,
                keep=body.keep,
                replace=body.replace,
                reason=body.reason,
                by=user.name,
            ),
            Assignments,
        )
    )
    event = audit.operator_action(
        actor=user.name,
        via="api",
        action="review.reassign",
        target=f"review/{program}/{year}/{base}",
        reason=body.reason,
        arguments={
            "round": done.round,
            "replace": body.replace,
            "keep": body.keep,
            "experts": done.experts,
            "role": user.role,
        },
        program=program,
        year=year,
        base=base,
    )
    await audited.record(deps, event, "the reassignment")
    return done
