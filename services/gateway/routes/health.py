"""``GET /healthz``: each component, and whether the whole is usable."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from services.gateway.deps import DepsDep
from services.gateway.public_models import Health
from shared.rpc import Empty
from shared.stream import EVENTS_STREAM

router = APIRouter(tags=["health"])
TIMEOUT = 3.0


async def _check(name: str, coro: Any) -> tuple[str, dict[str, Any]]:
    try:
        detail = await asyncio.wait_for(coro, TIMEOUT)
        return name, {"status": "ok", **(detail or {})}
    except Exception as exc:
        return name, {"status": "down", "error": str(exc) or type(exc).__name__}


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Degraded: a component is down"}},
)
async def healthz(deps: DepsDep) -> JSONResponse:
    async def temporal() -> dict[str, Any]:
        await deps.temporal.service_client.check_health()
        return {"address": deps.settings.temporal_address}

    async def worker() -> dict[str, Any]:
        resp = await deps.temporal.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=deps.temporal.namespace,
                task_queue=TaskQueue(name=deps.settings.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        if not resp.pollers:
            raise RuntimeError("no worker polls the task queue")
        return {"pollers": len(resp.pollers)}

    async def nats() -> dict[str, Any]:
        if not deps.nats.is_connected:
            raise RuntimeError("not connected")
        info = await deps.nats.jetstream().stream_info(EVENTS_STREAM)
        return {"stream": EVENTS_STREAM, "messages": info.state.messages}

    async def service(name: str) -> dict[str, Any]:
        await deps.rpc.call(name, "health", Empty(), Empty)
        return {}

    async def objects() -> dict[str, Any]:
        await deps.objects.check()
        return {"backend": "s3" if deps.settings.s3_endpoint else "local"}

    results = await asyncio.gather(
        _check("temporal", temporal()),
        _check("worker", worker()),
        _check("nats", nats()),
        _check("registry", service("registry")),
        _check("filings", service("filings")),
        _check("assessment", service("assessment")),
        _check("notifier", service("notifier")),
        _check("dashboard", service("dashboard")),
        _check("object_store", objects()),
    )
    components = dict(results)
    healthy = all(c["status"] == "ok" for c in components.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "components": components},
        status_code=200 if healthy else 503,
    )
