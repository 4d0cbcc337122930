"""LaunchYearWorkflow: what a program's yearly Schedule runs. It opens the program year of the
launch date; launching a year twice finds the year already open and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from shared.contracts import workflow_names as names
    from shared.contracts.program_year import LaunchRequest, LaunchResult
    from workflows.activities import CycleActivities


@workflow.defn(name=names.LAUNCH_WORKFLOW)
class LaunchYearWorkflow:
    @workflow.run
    async def run(self, req: LaunchRequest) -> LaunchResult:
        return await workflow.execute_activity_method(
            CycleActivities.launch_program_year,
            req.model_copy(update={"at": req.at or workflow.now()}),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )
