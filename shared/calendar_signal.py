"""Telling running program years that holiday data changed.

After a holiday table is stored (``navcycle calendar apply``, ``PUT /v1/calendars/{id}``) every
running program year is signalled ``calendar_applied``; each counts its provisional deadlines
again, records old and new dates as a decision event, and passes the signal on to its cycles.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts import workflow_names as names
from shared.contracts.calendars import CalendarApplied
from shared.logging import get_logger

log = get_logger("calendar_signal")
RUNNING_PROGRAM_YEARS = (
    f"WorkflowType = '{names.PROGRAM_YEAR_WORKFLOW}' AND ExecutionStatus = 'Running'"
)


async def calendar_applied(
    temporal_client: Client, *, calendar_id: str, version: int, years: list[int]
) -> int:
    """Signal every running ProgramYearWorkflow; returns how many were signalled.

    A program year that closes between the listing and its signal is skipped: it has no
    deadline left to recompute.
    """
    applied = CalendarApplied(calendar=calendar_id, version=version, years=sorted(years))
    signalled = 0
    async for execution in temporal_client.list_workflows(RUNNING_PROGRAM_YEARS):
        handle = temporal_client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            await handle.signal(names.CALENDAR_APPLIED, applied)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("calendar.signal_skipped", workflow_id=execution.id, reason="closed")
            continue
        signalled += 1
    log.info("calendar.signalled", calendar=calendar_id, version=version, workflows=signalled)
    return signalled
