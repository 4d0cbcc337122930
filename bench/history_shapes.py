"""Counting what navcycle's year did, so its floor can do the same: each workflow's timers,
activities, updates and signals from its history, and the queries the play made."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    WorkflowHistory,
)

from bench.floor_models import Shape


class QueryCounter(Interceptor):
    """Counts the queries the play makes, per workflow (the floor repeats them)."""

    def __init__(self) -> None:
        self.by_workflow: Counter[str] = Counter()

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _CountingOutbound(next, self.by_workflow)


class _CountingOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, counts: Counter[str]) -> None:
        super().__init__(next)
        self._counts = counts

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        self._counts[input.id] += 1
        return await super().query_workflow(input)


_E = HistoryEventType


def update_phase(update_id: str) -> int:
    """Which part of the year an update of the play belongs to (the floor keeps the order)."""
    key = update_id.rsplit("/", 1)[-1]
    if key.startswith(("plan-", "return-", "approve-")):
        return 1
    if key == "report":
        return 2
    if key.startswith("score-0-"):
        return 3
    return 4


@dataclass
class CycleShape:
    shape: Shape
    phases: list[int]  # the phase of each update, in the order they were accepted
    events: int
    bytes: int = 0  # the history's events, protobuf-encoded (what the server stores, about)


def shape_of(history: WorkflowHistory) -> CycleShape:
    counts: Counter[int] = Counter(e.event_type for e in history.events)
    phases = [
        update_phase(
            e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        )
        for e in history.events
        if e.event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    shape = Shape(
        activities=counts[_E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        local_activities=counts[_E.EVENT_TYPE_MARKER_RECORDED],
        timers_fired=counts[_E.EVENT_TYPE_TIMER_FIRED],
        timers_cancelled=counts[_E.EVENT_TYPE_TIMER_CANCELED],
        updates=len(phases),
        signals_in=counts[_E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
        signals_out=counts[_E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED],
    )
    size = sum(e.ByteSize() for e in history.events)
    return CycleShape(shape, phases, len(history.events), size)


async def fetch_shapes(client: Client, ids: list[str]) -> dict[str, CycleShape]:
    gate = asyncio.Semaphore(16)

    async def one(workflow_id: str) -> tuple[str, CycleShape]:
        async with gate:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        return workflow_id, shape_of(history)

    return dict(await asyncio.gather(*(one(w) for w in ids)))


def totals(shapes: dict[str, CycleShape]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for s in shapes.values():
        out.update({k: v for k, v in s.shape.model_dump().items()})
        out["history_events"] += s.events
    return dict(out)
