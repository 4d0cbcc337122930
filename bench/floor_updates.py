"""The engine's own floor for a deadline rush: N concurrent updates to N waiting bare workflows.

Each bare filing waits for one update, as a cycle waits for its plan, and its update handler
only takes the value: no activity, no timer, no search attribute. Run on the same Temporal
server and storage as the rush, it measures what the engine itself allows: navcycle's rush is
compared with it (recorded rate and p99), beside the object-store puts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

TASK_QUEUE = "bench-floor-updates"


@workflow.defn(name="BareFiling")
class BareFiling:
    def __init__(self) -> None:
        self._filed: int | None = None

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._filed is not None)
        return self._filed or 0

    @workflow.update
    def file(self, n: int) -> int:
        self._filed = n
        return n


@dataclass
class UpdateFloor:
    latencies_s: list[float]
    wall_s: float

    @property
    def rate_per_s(self) -> float:
        return len(self.latencies_s) / self.wall_s if self.wall_s else 0.0


async def update_floor(client: Client, count: int) -> UpdateFloor:
    """``count`` bare filings started and waiting, then one update each, all at once; each
    update's latency until it completed."""
    run = uuid.uuid4().hex[:8]
    ids = [f"bench-floor-filing/{run}/{n}" for n in range(count)]
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[BareFiling]):
        handles = await asyncio.gather(
            *(client.start_workflow(BareFiling.run, id=i, task_queue=TASK_QUEUE) for i in ids)
        )

        async def one(n: int) -> float:
            started = time.monotonic()
            await handles[n].execute_update(BareFiling.file, n)
            return time.monotonic() - started

        started = time.monotonic()
        latencies = await asyncio.gather(*(one(n) for n in range(count)))
        wall = time.monotonic() - started
        await asyncio.gather(*(h.result() for h in handles))
    return UpdateFloor(list(latencies), wall)
