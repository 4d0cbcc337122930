"""Resetting a cycle back to a named stage: find the workflow task that opened the stage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHistory

from shared.domain import stage_machine


class NoResetPoint(ValueError):
    pass


@dataclass(frozen=True)
class ResetPoint:
    workflow_id: str
    stage: str
    workflow_task_completed_id: int


def find_reset_point(history: WorkflowHistory, stage: str) -> ResetPoint:
    """The workflow task that scheduled the latest publication of the stage's opening event (the
    stage machine's)."""
    targets = stage_machine.reset_targets()
    target = next((t for t in targets if t == stage), None)
    opening = stage_machine.opened_by(target) if target is not None else None
    if opening is None:
        raise NoResetPoint(
            f"cannot reset to {stage!r}; choose one of {', '.join(targets)}"
            f" / 不能退回到该阶段，可选：{'、'.join(targets)}"
        )
    marker = f'"type":"{opening.cloudevents_type}"'
    last_completed, found = 0, 0
    for event in history.events:
        if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last_completed = event.event_id
        elif event.event_type == HistoryEventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == "publish_event":
                payload = b"".join(p.data for p in attrs.input.payloads).decode(errors="replace")
                if marker in payload.replace(" ", ""):
                    found = last_completed
    if not found:
        raise NoResetPoint(f"{history.workflow_id} never reached {stage} / 该周期未到过此阶段")
    return ResetPoint(history.workflow_id, stage, found)


async def reset_to(client: Client, point: ResetPoint, reason: str) -> str:
    """Reset; returns the new run id."""
    resp = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=point.workflow_id),
            reason=reason,
            workflow_task_finish_event_id=point.workflow_task_completed_id,
            request_id=str(uuid.uuid4()),
        )
    )
    return resp.run_id
