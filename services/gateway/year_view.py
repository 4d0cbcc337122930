"""A program year at a glance: counts by stage and grade, and who is overdue.

Everything comes from the dashboard's projections of the event log (one request/reply, however
many bases), the phase from the program year; nothing scans Temporal visibility or re-reads the
log per request. The overdue list names bases, so each caller sees only the rows the access
policy lets it see.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.gateway.access import Target, row_visible, sees_grade_counts
from services.gateway.auth import rpc
from services.gateway.deps import Deps
from services.gateway.identity.tokens import Principal
from services.gateway.problems import ApiError
from services.gateway.temporal_errors import call_workflow
from shared.contracts import workflow_names as names
from shared.contracts.dashboard import YearCounts, YearQuery
from shared.contracts.program_year import ProgramYearState
from shared.contracts.workflow_names import program_year_id


class Overdue(BaseModel):
    base: str
    region: str | None
    stage: str = Field(description="The cycle's stage now")
    overdue: int = Field(description="How many of its deadlines it has missed")


class YearView(BaseModel):
    program: str
    year: int
    phase: str
    rules_version: int | None
    cycles: int
    stages: dict[str, int]
    grades: dict[str, int]
    overdue: list[Overdue]


async def year_state(deps: Deps, program: str, year: int) -> ProgramYearState:
    handle = deps.temporal.get_workflow_handle(program_year_id(program, year))
    state: ProgramYearState = await call_workflow(
        handle.query(names.STATE, result_type=ProgramYearState), what="the program year"
    )
    return state


async def results_published(deps: Deps, program: str, year: int) -> bool:
    """Whether the year's 公示 is out (its first notice published). A cycle run without a
    program year (an operator's single cycle) has no 公示: nothing of it is published."""
    try:
        return (await year_state(deps, program, year)).notices > 0
    except ApiError as exc:
        if exc.status == 404:
            return False
        raise


async def year_view(deps: Deps, program: str, year: int, viewer: Principal) -> YearView:
    state = await year_state(deps, program, year)
    counts = await rpc(
        deps.rpc.call("dashboard", "counts", YearQuery(program=program, year=year), YearCounts)
    )
    overdue = [
        Overdue(base=row.base, region=row.region, stage=row.stage, overdue=row.overdue)
        for rows in counts.overdue_by_city.values()
        for row in rows
        if row_visible(viewer, Target(program=program, base=row.base, region=row.region))
    ]
    return YearView(
        program=program,
        year=year,
        phase=state.phase,
        rules_version=state.rules_version,
        cycles=state.opened,
        stages=counts.by_stage,
        # Before the 公示 the grade distribution is the province's alone.
        grades=(
            counts.by_grade
            if sees_grade_counts(viewer, Target(program=program), published=state.notices > 0)
            else {}
        ),
        overdue=sorted(overdue, key=lambda o: o.base),
    )
