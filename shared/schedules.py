"""One Temporal Schedule per program: it launches each year on the calendar's launch date.

Client code: it names the launch workflow and needs none of its code."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from shared.contracts.program_year import LaunchRequest
from shared.contracts.workflow_names import LAUNCH_WORKFLOW, schedule_id
from shared.domain.rules import ProgramRules
from shared.domain.timespec import parse_utc_offset


def iana_zone(utc_offset: str) -> str:
    """A whole-hour offset as an IANA zone (POSIX signs are inverted: +08:00 is Etc/GMT-8)."""
    offset = parse_utc_offset(utc_offset).utcoffset(None)
    assert offset is not None
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest:
        raise ValueError(f"schedules need a whole-hour UTC offset, not {utc_offset}")
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def program_schedule(rules: ProgramRules, task_queue: str) -> Schedule:
    launch = rules.calendar.launch_day
    return Schedule(
        action=ScheduleActionStartWorkflow(
            LAUNCH_WORKFLOW,
            LaunchRequest(program=rules.id),
            id=schedule_id(rules.id),
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    month=[ScheduleRange(launch.month)],
                    day_of_month=[ScheduleRange(launch.day)],
                    hour=[ScheduleRange(0)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    comment=f"{rules.name} 年度启动 (launch {rules.calendar.launch})",
                )
            ],
            time_zone_name=iana_zone(rules.calendar.utc_offset),
        ),
    )


async def ensure_program_schedule(client: Client, rules: ProgramRules, task_queue: str) -> str:
    """Create the program's schedule, or bring it to the current rules. Returns its id."""
    schedule = program_schedule(rules, task_queue)
    sid = schedule_id(rules.id)
    try:
        await client.create_schedule(sid, schedule)
    except ScheduleAlreadyRunningError:

        def _update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(sid).update(_update)
    return sid
