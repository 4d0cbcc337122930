"""A deliberately nondeterministic variant of the cycle, for replay tests only.

It lives alone so the workflow sandbox re-imports nothing but the workflow code.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cycle import CycleInput, CycleOutcome
    from workflows.cycle import AnnualCycleWorkflow


@workflow.defn(name="AnnualCycleWorkflow")
class ReorderedCycle(AnnualCycleWorkflow):
    """The cycle with one extra timer before it starts."""

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleOutcome:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)
