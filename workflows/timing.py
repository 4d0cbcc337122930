"""Resolving a rules time spec to an absolute deadline, from inside a workflow.

Periods are counted as the Civil Code counts them (shared/domain/periods.py) on the bureau's
holiday table, which is data that changes by release: anything counted in days goes through a
local activity, so its answer is recorded in history and a later table never changes a replay.
Sub-day durations (demo programs' seconds) are exact instants, computed here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts.activities import ResolvedDeadline, ResolveDeadlineRequest
    from shared.domain.rules import CalendarRules
    from shared.domain.timespec import Duration, parse_timespec
    from workflows.activities import CycleActivities


async def resolve_spec(
    calendar: CalendarRules, spec_text: str, *, anchor: datetime, year: int
) -> ResolvedDeadline:
    spec = parse_timespec(spec_text)
    if isinstance(spec, Duration) and not (spec.years or spec.months or spec.days):
        return ResolvedDeadline(until=anchor + timedelta(seconds=spec.seconds))
    return await workflow.execute_local_activity_method(
        CycleActivities.resolve_deadline,
        ResolveDeadlineRequest(
            spec=spec_text,
            anchor=anchor,
            year=year,
            utc_offset=calendar.utc_offset,
            calendar=calendar.holidays,
        ),
        start_to_close_timeout=timedelta(seconds=10),
    )
