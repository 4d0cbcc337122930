"""A region's forwarding at an aggregation step (汇总报送, issue 16) over HTTP: the program's
admin, or an officer of that region, forwards as one filing the plans of the region's units that
wait at the step; the answer is the forwarding record (201).

The forwarding lives in the program year's workflow (update ``forward_plans``, see
``shared/contracts/forwardings.py``), which refuses ``nothing_to_forward`` (409),
``already_forwarded`` (409), ``not_a_forwarding_region`` (422) and ``not_your_role`` (403). A year
whose workflow has ended is 409 ``year_closed``; a year never launched, 404
``program_year_not_found``.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import audited
from services.gateway.auth import UserDep, require
from services.gateway.deps import DepsDep
from services.gateway.problem_docs import authenticated
from services.gateway.program_year_updates import update_year, year_closed
from services.gateway.routes.cycles import actor_of, scoped_key
from services.gateway.routes.params import IdempotencyKey, Program, Year
from services.gateway.temporal_errors import call_workflow
from shared import audit
from shared.contracts import workflow_names as names
from shared.contracts.forwardings import ForwardingRecord, ForwardPlans
from shared.contracts.workflow_names import program_year_id

router = APIRouter(prefix="/v1/programs/{program}/years/{year}", tags=["forwardings"])

_CLOSED = year_closed("汇总报送", "forwardings")


class ForwardingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(
        pattern=r"^\d{6}$",
        description="汇总报送的地区（六位行政区划代码）— the forwarding region (GB/T 2260)",
    )
    document_id: str | None = Field(
        None,
        max_length=200,
        description="该地区的报送函（可选）— the region's own covering filing, if any",
    )


@router.post(
    "/forwardings",
    status_code=201,
    response_model=ForwardingRecord,
    responses=authenticated(404, 409, 422),
)
async def forward_plans(
    program: Program,
    year: Year,
    body: ForwardingBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> ForwardingRecord:
    """汇总报送 — a region forwards, as one filing, the plans of its units waiting at its
    aggregation step: by the program's admin or an officer of that region. The same
    Idempotency-Key again answers the first forwarding's record."""
    await require(deps, user, "forward_plans", program=program, region=body.region)
    handle = deps.temporal.get_workflow_handle(program_year_id(program, year))
    document = (body.document_id or "").strip() or None  # the portal's empty field: none
    req = ForwardPlans(region=body.region, document_id=document, actor=actor_of(user))
    key = scoped_key(user, "forward_plans", idempotency_key)
    forwarded = update_year(
        handle,
        names.FORWARD_PLANS,
        req,
        update_id=f"forward-plans:{key}" if key else None,
        result_type=ForwardingRecord,
        closed=_CLOSED,
    )
    record = await call_workflow(forwarded, what="the forwarding")
    event = audit.operator_action(
        actor=user.name,
        via="api",
        action="plans.forward",
        target=f"forwardings/{program}/{year}/{body.region}",
        arguments={"units": record.units, "filing": record.filing, "role": user.role},
        program=program,
        year=year,
    )
    await audited.record(deps, event, f"forwarding {record.filing} of {body.region}")
    return record
