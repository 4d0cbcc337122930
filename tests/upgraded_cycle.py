"""The cycle as a next release might change it, for the upgrade test only.

The change: once the plan is accepted, the base is told when its self-evaluation falls due (an
extra ``reminder.sent``, one more activity). ``PatchedCycle`` guards it with
``workflow.patched``, as workflows/README.md says to; ``UnguardedCycle`` makes the same change
without the guard, which a cycle already past plan acceptance cannot replay.

It lives alone so the workflow sandbox re-imports nothing but the workflow code.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cycle import CycleInput, CycleOutcome
    from shared.events import payloads as ev
    from workflows.cycle import AnnualCycleWorkflow

PATCH = "self-evaluation-notice-at-acceptance"


@workflow.defn(name="AnnualCycleWorkflow")
class PatchedCycle(AnnualCycleWorkflow):
    @workflow.run
    async def run(self, inp: CycleInput) -> CycleOutcome:
        return await super().run(inp)

    async def _enter_implementation(self) -> None:
        await super()._enter_implementation()
        if workflow.patched(PATCH):
            await _notice(self)


@workflow.defn(name="AnnualCycleWorkflow")
class UnguardedCycle(AnnualCycleWorkflow):
    @workflow.run
    async def run(self, inp: CycleInput) -> CycleOutcome:
        return await super().run(inp)

    async def _enter_implementation(self) -> None:
        await super()._enter_implementation()
        await _notice(self)


async def _notice(cycle: AnnualCycleWorkflow) -> None:
    await cycle._emit(
        ev.ReminderSent(
            deadline="self_evaluation", **cycle._due("self_evaluation"), reason="plan_accepted"
        )
    )
