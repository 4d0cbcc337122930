"""The replay floor's workflow: returns its input at once. Alone in its module, so the sandbox
imports nothing else with it."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="Trivial")
class Trivial:
    @workflow.run
    async def run(self, n: int) -> int:
        return n
