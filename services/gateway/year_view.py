"""A program year at a glance: counts by stage and grade, and who is overdue.

Everything comes from the dashboard's projections of the event log (a request/reply or two,
however many bases), the phase from the program year; nothing scans Temporal visibility or
re-reads the log per request. The overdue list names bases, so each caller sees only the rows
the access policy lets it see; the view holds its first page (``OVERDUE_IN_VIEW``), and
``overdue_next_cursor`` continues it at ``GET .../dashboard/overdue``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.gateway import need_to_know
from services.gateway.access import Target, sees_grade_counts
from services.gateway.auth import rpc
from services.gateway.deps import Deps
from services.gateway.identity.tokens import Principal
from services.gateway.problems import ApiError
from services.gateway.temporal_errors import call_workflow
from shared.contracts import workflow_names as names
from shared.contracts.dashboard import (
    OverdueBase,
    OverdueList,
    OverdueQuery,
    YearCounts,
    YearQuery,
)
from shared.contracts.program_year import ProgramYearState
from shared.contracts.targets import TargetProgressView
from shared.contracts.workflow_names import program_year_id
from shared.paging import MAX_PAGE

OVERDUE_IN_VIEW = 100  # overdue bases the year view holds; the rest are paged


class YearView(BaseModel):
    program: str
    year: int
    phase: str
    rules_version: int | None
    cycles: int
    stages: dict[str, int]
    grades: dict[str, int]
    overdue: list[OverdueBase] = Field(
        description=f"The first {OVERDUE_IN_VIEW} at most of the overdue bases the caller may see"
    )
    overdue_next_cursor: str | None = Field(
        None, description="More follow: GET .../dashboard/overdue?cursor= this"
    )
    targets: TargetProgressView | None = Field(
        None,
        description="The program-level targets' progress to their horizons as the year's"
        " reported actuals measure it (None: no report this year)",
    )


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


async def overdue_page(
    deps: Deps,
    user: Principal,
    program: str,
    year: int,
    *,
    cursor: str | None = None,
    limit: int = MAX_PAGE,
) -> OverdueList:
    """A page of the dashboard's overdue list, the rows ``user`` may not see left out."""
    ask = OverdueQuery(program=program, year=year, cursor=cursor, limit=limit)
    listed = await rpc(deps.rpc.call("dashboard", "overdue", ask, OverdueList))
    listed.bases = need_to_know.overdue_rows(user, program, listed.bases)
    return listed


async def year_view(deps: Deps, program: str, year: int, viewer: Principal) -> YearView:
    state = await year_state(deps, program, year)
    counts = await rpc(
        deps.rpc.call("dashboard", "counts", YearQuery(program=program, year=year), YearCounts)
    )
    overdue = await overdue_page(deps, viewer, program, year, limit=OVERDUE_IN_VIEW)
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
        overdue=overdue.bases,
        overdue_next_cursor=overdue.next_cursor,
        targets=state.targets,
    )
