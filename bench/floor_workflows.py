"""Bare workflows for the year simulation's floor: the same shape as navcycle's year, no logic.

Each bare cycle is given the counts that its navcycle cycle showed in its history (activities,
local activities, timers fired and cancelled, updates, signals in and out) and does exactly that
many of each, with activities that do nothing. The bare parent opens the cycles from an activity
in batches, takes their signals and signals them back from an activity, as the program year does.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from bench.floor_models import (
        BATCH,
        BareCycleInput,
        BareYearInput,
        SignalBatch,
        StartBatch,
        local_noop,
    )

SHORT = timedelta(milliseconds=10)
LONG = timedelta(days=1)
ACTIVITY_TIMEOUT = timedelta(seconds=60)


async def _noop() -> None:
    await workflow.execute_activity("bare_noop", start_to_close_timeout=ACTIVITY_TIMEOUT)


@workflow.defn(name="BareCycle")
class BareCycle:
    @workflow.init
    def __init__(self, inp: BareCycleInput) -> None:
        self._updates = 0
        self._signals = 0

    @workflow.run
    async def run(self, inp: BareCycleInput) -> int:
        shape = inp.shape
        # Each update handler runs one activity and answers at once; everything else runs after
        # the last update, so no update ever waits behind the cycle's own work.
        timed_waits = min(shape.timers_cancelled, shape.updates)
        for seg in range(shape.updates):
            arrived = functools.partial(self._arrived, seg)
            if seg < timed_waits:
                # A deadline wait that an update ends: a timer started, then cancelled.
                try:
                    await workflow.wait_condition(arrived, timeout=LONG)
                except TimeoutError:
                    pass
            else:
                await workflow.wait_condition(arrived)
        for _ in range(max(0, shape.activities - shape.updates)):
            await _noop()
        for _ in range(shape.timers_fired):
            await workflow.sleep(SHORT)
        for _ in range(shape.local_activities):
            await workflow.execute_local_activity(
                local_noop, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        parent = workflow.get_external_workflow_handle(inp.parent_id)
        for _ in range(shape.signals_out):
            await parent.signal("cycle_done")
        await workflow.wait_condition(lambda: self._signals >= shape.signals_in)
        return self._updates

    def _arrived(self, seg: int) -> bool:
        return self._updates > seg

    @workflow.update
    async def step(self, n: int) -> int:
        await _noop()
        self._updates += 1
        return self._updates

    @workflow.signal
    def finalize(self) -> None:
        self._signals += 1

    @workflow.query
    def updates(self) -> int:
        return self._updates


@workflow.defn(name="BareYear")
class BareYear:
    @workflow.init
    def __init__(self, inp: BareYearInput) -> None:
        self._started = 0
        self._done = 0

    @workflow.run
    async def run(self, inp: BareYearInput) -> int:
        shape = inp.shape
        batches = [inp.cycles[i : i + BATCH] for i in range(0, len(inp.cycles), BATCH)]
        for batch in batches:
            await workflow.execute_activity(
                "bare_start_cycles",
                StartBatch(cycles=batch, task_queue=inp.task_queue),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=1),
            )
            self._started += len(batch)
        for _ in range(max(0, shape.activities - len(batches) - 1)):
            await _noop()
        await workflow.wait_condition(lambda: self._done >= shape.signals_in)
        for _ in range(shape.timers_fired):
            await workflow.sleep(SHORT)
        for _ in range(shape.local_activities):
            await workflow.execute_local_activity(
                local_noop, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        waiting = [c.workflow_id for c in inp.cycles if c.shape.signals_in > 0]
        await workflow.execute_activity(
            "bare_signal_cycles",
            SignalBatch(workflow_ids=waiting),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
        )
        return self._done

    @workflow.signal
    def cycle_done(self) -> None:
        self._done += 1

    @workflow.query
    def started(self) -> int:
        return self._started
