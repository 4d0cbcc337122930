"""Resolving a rules time spec to an absolute deadline, from inside a workflow.

Durations and month-days are pure arithmetic. Working days read the holiday table, which is
data that changes by release, so they go through a local activity and are recorded in history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.domain.rules import CalendarRules
    from shared.domain.timespec import (
        WorkingDays,
        parse_timespec,
        parse_utc_offset,
        resolve_deadline,
    )
    from workflows.activities import CycleActivities
    from workflows.models import WorkingDaysRequest, WorkingDaysResult


async def resolve_spec(
    calendar: CalendarRules, spec_text: str, *, anchor: datetime, year: int
) -> WorkingDaysResult:
    spec = parse_timespec(spec_text)
    if isinstance(spec, WorkingDays):
        return await workflow.execute_local_activity_method(
            CycleActivities.add_working_days,
            WorkingDaysRequest(start=anchor, count=spec.count, utc_offset=calendar.utc_offset),
            start_to_close_timeout=timedelta(seconds=10),
        )
    tz = parse_utc_offset(calendar.utc_offset)
    until = resolve_deadline(spec, anchor=anchor, year=year, tz=tz)
    return WorkingDaysResult(until=until, holidays_known=True)
