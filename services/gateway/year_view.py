"""A program year at a glance: counts by stage and grade, and who is overdue.

Counts come from Temporal visibility (the search attributes the cycles keep current), the
overdue list from the event log; neither polls thousands of workflows. The overdue list names
bases, so each caller sees only the rows the access policy lets it see.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel

from services.gateway.access import Target, row_visible, sees_grade_counts
from services.gateway.deps import Deps
from services.gateway.identity.tokens import Principal
from services.gateway.problems import ApiError
from services.gateway.temporal_errors import call_workflow
from shared.contracts import search_attributes as sa
from shared.contracts import workflow_names as names
from shared.contracts.program_year import ProgramYearState
from shared.contracts.workflow_names import program_year_id
from shared.eventlog import fetch_events
from shared.events.payloads import CycleContext, read_payload
from shared.events.subjects import event_filter


class Overdue(BaseModel):
    base: str
    region: str | None
    deadline: str
    at: datetime


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
    stages: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    query = (
        f"WorkflowType = 'AnnualCycleWorkflow' AND NavProgram = '{program}' AND NavYear = {year}"
    )
    async for wf in deps.temporal.list_workflows(query):
        attrs = wf.typed_search_attributes
        stages[attrs.get(sa.STAGE) or "unknown"] += 1
        if grade := attrs.get(sa.GRADE):
            grades[grade] += 1
    js = deps.nats.jetstream()
    overdue = []
    for kind in ("plan.overdue", "selfeval.overdue"):
        for _, event in await fetch_events(js, event_filter(program, year, event_type=kind)):
            overdue_payload = read_payload(event)
            region = overdue_payload.region if isinstance(overdue_payload, CycleContext) else None
            if not row_visible(viewer, Target(program=program, base=event.base, region=region)):
                continue
            overdue.append(
                Overdue(
                    base=event.base,
                    region=region,
                    deadline=kind.split(".")[0],
                    at=event.time,
                )
            )
    return YearView(
        program=program,
        year=year,
        phase=state.phase,
        rules_version=state.rules_version,
        cycles=state.opened,
        stages=dict(stages),
        # Before the 公示 the grade distribution is the province's alone.
        grades=(
            dict(grades)
            if sees_grade_counts(viewer, Target(program=program), published=state.notices > 0)
            else {}
        ),
        overdue=sorted(overdue, key=lambda o: (o.at, o.base)),
    )
