"""What the year simulation's floor is made of: the shape of each bare workflow, and activities
that do nothing but what the engine needs (start the cycles, signal them). Kept out of the
workflow module and passed through the sandbox, as navcycle's models and activities are."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client

BATCH = 500


class Shape(BaseModel):
    """How many of each engine operation one workflow of navcycle's year used."""

    activities: int = 0
    local_activities: int = 0
    timers_fired: int = 0
    timers_cancelled: int = 0
    updates: int = 0
    signals_in: int = 0
    signals_out: int = 0


class BareCycleInput(BaseModel):
    workflow_id: str
    parent_id: str
    shape: Shape


class BareYearInput(BaseModel):
    shape: Shape
    cycles: list[BareCycleInput]
    task_queue: str


class StartBatch(BaseModel):
    cycles: list[BareCycleInput]
    task_queue: str


class SignalBatch(BaseModel):
    workflow_ids: list[str]


class FloorActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="bare_noop")
    async def noop(self) -> None:
        return None

    @activity.defn(name="bare_start_cycles")
    async def start_cycles(self, batch: StartBatch) -> int:
        # One start at a time, as navcycle's open_cycles does.
        for n, cycle in enumerate(batch.cycles):
            await self._client.start_workflow(
                "BareCycle", cycle, id=cycle.workflow_id, task_queue=batch.task_queue
            )
            if n % 50 == 0:
                activity.heartbeat(n)
        return len(batch.cycles)

    @activity.defn(name="bare_signal_cycles")
    async def signal_cycles(self, batch: SignalBatch) -> int:
        for n, workflow_id in enumerate(batch.workflow_ids):
            await self._client.get_workflow_handle(workflow_id).signal("finalize")
            if n % 100 == 0:
                activity.heartbeat(n)
        return len(batch.workflow_ids)

    def methods(self) -> list[object]:
        return [self.noop, self.start_cycles, self.signal_cycles, local_noop]


@activity.defn(name="bare_local_noop")
async def local_noop() -> None:
    return None
